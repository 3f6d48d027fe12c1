// hello.cpp — the SDK from C++: a scheduler that runs one command task and prints how
// it ended. Every public header has extern "C" guards, so nothing else is needed.
//
//     c++ hello.cpp $(pkg-config --cflags --libs plexus)
#include <plexus/plexus.h>

#include <cstdio>
#include <string>

namespace {

struct Hello {
	bool launched = false;
	std::string outcome;

	void offers(px_scheduler_driver *d, Plexus__Offer *const *offers, size_t n)
	{
		for (size_t i = 0; i < n; i++) {
			const Plexus__OfferID *id[] = {offers[i]->id};
			if (launched || !px_offer_fits_text(offers[i], "cpus:0.1;mem:32")) {
				px_scheduler_driver_decline(d, offers[i]->id, nullptr);
				continue;
			}
			Plexus__TaskInfo *t = px_task_command("hello-cpp", offers[i]->agent_id,
			                                      "echo hello from C++", "cpus:0.1;mem:32",
			                                      nullptr, 0);
			const Plexus__TaskInfo *tasks[] = {t};
			px_scheduler_driver_launch(d, id, 1, tasks, 1, nullptr);
			PX_FREE(t);
			launched = true;
		}
	}

	void update(px_scheduler_driver *d, const Plexus__TaskStatus *s)
	{
		std::printf("%s %s\n", s->task_id->value, px_task_state_name(s->state));
		if (px_task_state_is_terminal(s->state)) {
			outcome = px_task_state_name(s->state);
			px_scheduler_driver_stop(d, false);
		}
	}
};

} // namespace

int main(int argc, char **argv)
{
	Hello hello;
	Plexus__FrameworkInfo fw = PLEXUS__FRAMEWORK_INFO__INIT;
	fw.name = const_cast<char *>("hello-cpp");
	fw.user = const_cast<char *>("");
	px_scheduler_callbacks cb = {};
	cb.resource_offers = [](px_scheduler_driver *d, Plexus__Offer *const *o, size_t n, void *a) {
		static_cast<Hello *>(a)->offers(d, o, n);
	};
	cb.status_update = [](px_scheduler_driver *d, const Plexus__TaskStatus *s, void *a) {
		static_cast<Hello *>(a)->update(d, s);
	};
	const char *master = argc > 1 ? argv[1] : "127.0.0.1:5050";
	px_scheduler_driver *d = px_scheduler_driver_alloc(&cb, &hello, &fw, master, nullptr);
	if (d == nullptr) {
		std::fprintf(stderr, "%s\n", px_driver_error());
		return 2;
	}
	px_scheduler_driver_run(d);
	px_scheduler_driver_free(d);
	std::printf("plexus %s: the task ended %s\n", px_version(), hello.outcome.c_str());
	return hello.outcome == "TASK_FINISHED" ? 0 : 1;
}
