/* `plexus execute` as a real OS process against a real actor playing the master over
 * TCP (found through GET /master/info): it registers, launches its command on the
 * offer, acknowledges updates, unregisters, and exits with the task's outcome. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peer.h"
#include "proto/internal.pb-c.h"

#define WAIT_MS 15000

extern char **environ;

static char info_pid[ACTOR_PID_TEXT_MAX];

static actor_future *info(actor_t *self, const actor_http_request *req, void *arg)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"id\": \"m\", \"pid\": \"%s\"}", info_pid);
	return actor_http_reply(200, "application/json", body, strlen(body));
}

static int info_init(actor_t *self)
{
	return actor_http_route(self, "/info", info, NULL);
}

static const actor_def info_def = {.name = "master", .init = info_init};

static peer *master;
static pid_t child = -1;
static char out_path[64];

static void setup(void)
{
	test_runtime_start(true);
	master = peer_spawn("master-protocol");
	snprintf(info_pid, sizeof(info_pid), "%s", peer_pid_text(master));
	actor_pid p;
	cr_assert_eq(actor_spawn(&info_def, NULL, &p), 0);
}

static void teardown(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	peer_free(master);
	master = NULL;
	test_runtime_stop();
	if (out_path[0] != '\0')
		unlink(out_path);
}

TestSuite(execute, .init = setup, .fini = teardown, .timeout = 90);

/* Starts plexus with args (NULL-terminated), its stdout into a temporary file. */
static void start_plexus(const char *const *args)
{
	const char *argv[16];
	int n = 0;
	argv[n++] = PLEXUS_PATH;
	for (; *args != NULL && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	snprintf(out_path, sizeof(out_path), "/tmp/plexus-execute-XXXXXX");
	int fd = mkstemp(out_path);
	cr_assert_geq(fd, 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	cr_assert_eq(posix_spawn(&child, PLEXUS_PATH, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
}

static int wait_exit(void)
{
	int st;
	cr_assert_eq(waitpid(child, &st, 0), child);
	child = -1;
	cr_assert(WIFEXITED(st), "plexus did not exit normally");
	return WEXITSTATUS(st);
}

static char *read_output(void)
{
	static char buf[8192];
	FILE *f = fopen(out_path, "r");
	cr_assert_not_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void send_update(actor_pid to, Plexus__TaskState state, const char *message, uint8_t tag)
{
	Plexus__TaskID tid = PLEXUS__TASK_ID__INIT;
	tid.value = "hello";
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = "agent-1";
	Plexus__TaskStatus st = PLEXUS__TASK_STATUS__INIT;
	st.task_id = &tid;
	st.state = state;
	st.agent_id = &aid;
	st.message = (char *)message;
	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fid.value = "fw-x";
	uint8_t uuid[16];
	memset(uuid, tag, sizeof(uuid));
	Plexus__Internal__StatusUpdate u = PLEXUS__INTERNAL__STATUS_UPDATE__INIT;
	u.framework_id = &fid;
	u.agent_id = &aid;
	u.status = &st;
	u.has_uuid = true;
	u.uuid.data = uuid;
	u.uuid.len = 16;
	Plexus__Internal__StatusUpdateMessage m = PLEXUS__INTERNAL__STATUS_UPDATE_MESSAGE__INIT;
	m.update = &u;
	m.pid = "slave(1)@127.0.0.1:1";
	peer_send(master, to, &m.base);
}

/* Drives one run: registration, one offer, the launch; then the given terminal update.
 * Returns the exit status of plexus. */
static int run_task(Plexus__TaskState final, const char *final_message)
{
	char flag[64];
	snprintf(flag, sizeof(flag), "--master=127.0.0.1:%u", actor_runtime_http_port());
	const char *args[] = {
	    "execute", flag, "--name=hello", "--command=echo hi", "--resources=cpus:0.5;mem:64",
	    NULL};
	start_plexus(args);

	actor_pid sched;
	Plexus__Internal__RegisterFrameworkMessage *reg = (void *)peer_wait(
	    master, &plexus__internal__register_framework_message__descriptor, 1, WAIT_MS, &sched);
	cr_assert_not_null(reg, "plexus execute did not register");
	cr_expect_str_eq(reg->framework->name, "plexus-execute");
	protobuf_c_message_free_unpacked(&reg->base, NULL);

	Plexus__FrameworkID fid = PLEXUS__FRAMEWORK_ID__INIT;
	fid.value = "fw-x";
	Plexus__Internal__FrameworkRegisteredMessage ok =
	    PLEXUS__INTERNAL__FRAMEWORK_REGISTERED_MESSAGE__INIT;
	ok.framework_id = &fid;
	peer_send(master, sched, &ok.base);

	/* One offer too small, one that fits. */
	Plexus__Value__Scalar one = PLEXUS__VALUE__SCALAR__INIT, big = PLEXUS__VALUE__SCALAR__INIT,
	                      tiny = PLEXUS__VALUE__SCALAR__INIT;
	one.value = 1;
	big.value = 1024;
	tiny.value = 0.1;
	Plexus__Resource cpus = PLEXUS__RESOURCE__INIT, mem = PLEXUS__RESOURCE__INIT,
	                 small_cpus = PLEXUS__RESOURCE__INIT;
	cpus.name = "cpus";
	cpus.type = PLEXUS__VALUE__TYPE__SCALAR;
	cpus.scalar = &one;
	small_cpus = cpus;
	small_cpus.scalar = &tiny;
	mem.name = "mem";
	mem.type = PLEXUS__VALUE__TYPE__SCALAR;
	mem.scalar = &big;
	/* As the master sends them: every offered resource is marked with the role the
	 * offer is made to. */
	Plexus__Resource__AllocationInfo alloc = PLEXUS__RESOURCE__ALLOCATION_INFO__INIT;
	alloc.role = "*";
	cpus.allocation_info = &alloc;
	small_cpus.allocation_info = &alloc;
	mem.allocation_info = &alloc;
	Plexus__Resource *fits[2] = {&cpus, &mem}, *small[2] = {&small_cpus, &mem};
	Plexus__OfferID o1 = PLEXUS__OFFER_ID__INIT, o2 = PLEXUS__OFFER_ID__INIT;
	o1.value = "offer-small";
	o2.value = "offer-fits";
	Plexus__AgentID aid = PLEXUS__AGENT_ID__INIT;
	aid.value = "agent-1";
	Plexus__Offer a = PLEXUS__OFFER__INIT, b = PLEXUS__OFFER__INIT;
	a.id = &o1;
	a.framework_id = &fid;
	a.agent_id = &aid;
	a.hostname = "h";
	a.n_resources = 2;
	a.resources = small;
	b = a;
	b.id = &o2;
	b.resources = fits;
	Plexus__Offer *offers[2] = {&a, &b};
	Plexus__Internal__ResourceOffersMessage om =
	    PLEXUS__INTERNAL__RESOURCE_OFFERS_MESSAGE__INIT;
	om.n_offers = 2;
	om.offers = offers;
	peer_send(master, sched, &om.base);

	Plexus__Internal__AcceptOffersMessage *acc = (void *)peer_wait(
	    master, &plexus__internal__accept_offers_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(acc, "no launch");
	cr_assert_eq(acc->n_offer_ids, 1);
	cr_expect_str_eq(acc->offer_ids[0]->value, "offer-fits");
	cr_assert_eq(acc->n_operations, 1);
	Plexus__TaskInfo *t = acc->operations[0]->launch->task_infos[0];
	cr_expect_str_eq(t->name, "hello");
	cr_expect_str_eq(t->task_id->value, "hello");
	cr_expect_str_eq(t->command->value, "echo hi");
	cr_assert_eq(t->n_resources, 2);
	for (size_t i = 0; i < t->n_resources; i++) {
		cr_assert_not_null(t->resources[i]->allocation_info,
		                   "task resources carry the offer's role");
		cr_expect_str_eq(t->resources[i]->allocation_info->role, "*");
	}
	protobuf_c_message_free_unpacked(&acc->base, NULL);
	Plexus__Internal__DeclineOffersMessage *dec = (void *)peer_wait(
	    master, &plexus__internal__decline_offers_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(dec, "the small offer was not declined");
	cr_expect_str_eq(dec->offer_ids[0]->value, "offer-small");
	protobuf_c_message_free_unpacked(&dec->base, NULL);

	send_update(sched, PLEXUS__TASK_STATE__TASK_RUNNING, NULL, 1);
	send_update(sched, final, final_message, 2);
	ProtobufCMessage *ack =
	    peer_wait(master, &plexus__internal__status_update_acknowledgement_message__descriptor,
	              2, WAIT_MS, NULL);
	cr_assert_not_null(ack, "the updates were not both acknowledged");
	protobuf_c_message_free_unpacked(ack, NULL);
	ProtobufCMessage *unreg = peer_wait(
	    master, &plexus__internal__unregister_framework_message__descriptor, 1, WAIT_MS, NULL);
	cr_assert_not_null(unreg, "plexus execute did not unregister");
	protobuf_c_message_free_unpacked(unreg, NULL);
	return wait_exit();
}

Test(execute, finished_task_exits_zero)
{
	cr_expect_eq(run_task(PLEXUS__TASK_STATE__TASK_FINISHED, "Command exited with status 0"),
	             0);
	const char *out = read_output();
	cr_expect(strstr(out, "TASK_RUNNING") != NULL, "output: %s", out);
	cr_expect(strstr(out, "TASK_FINISHED") != NULL, "output: %s", out);
	cr_expect(strstr(out, "agent-1") != NULL, "output: %s", out);
}

Test(execute, failed_task_exits_with_the_command_status)
{
	cr_expect_eq(run_task(PLEXUS__TASK_STATE__TASK_FAILED, "Command exited with status 3"), 3);
	const char *out = read_output();
	cr_expect(strstr(out, "Command exited with status 3") != NULL, "output: %s", out);
}

Test(execute, killed_task_exits_one)
{
	cr_expect_eq(run_task(PLEXUS__TASK_STATE__TASK_KILLED, NULL), 1);
}

Test(execute, bad_flags_exit_two)
{
	const char *args1[] = {"execute", "--name=x", "--command=true", NULL};
	start_plexus(args1);
	cr_expect_eq(wait_exit(), 2);
	const char *args2[] = {"execute", "--master=nonsense", "--name=x", "--command=true", NULL};
	start_plexus(args2);
	cr_expect_eq(wait_exit(), 2);
	const char *args3[] = {"execute",        "--master=127.0.0.1:5050", "--name=x",
	                       "--command=true", "--resources=cpus:lots",   NULL};
	start_plexus(args3);
	cr_expect_eq(wait_exit(), 2);
}

Test(execute, unreachable_master_exits_one)
{
	const char *args[] = {"execute", "--master=127.0.0.1:1", "--name=x", "--command=true",
	                      NULL};
	start_plexus(args);
	cr_expect_eq(wait_exit(), 1);
}
