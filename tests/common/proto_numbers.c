/* The public types must keep Mesos's v1 field numbers and enum values so that Mesos
 * clients can talk to Plexus without translation: a renumbered field fails here. */
#include <criterion/criterion.h>

#include "proto/internal.pb-c.h"
#include "proto/plexus.pb-c.h"

struct field_number {
	const ProtobufCMessageDescriptor *desc;
	const char *name;
	unsigned id;
};

Test(proto, field_numbers_match_mesos)
{
	static const struct field_number fields[] = {
	    {&plexus__resource__descriptor, "name", 1},
	    {&plexus__resource__descriptor, "type", 2},
	    {&plexus__resource__descriptor, "scalar", 3},
	    {&plexus__resource__descriptor, "ranges", 4},
	    {&plexus__resource__descriptor, "set", 5},
	    {&plexus__resource__descriptor, "role", 6},
	    {&plexus__resource__descriptor, "disk", 7},
	    {&plexus__resource__descriptor, "reservation", 8},
	    {&plexus__resource__descriptor, "revocable", 9},
	    {&plexus__resource__descriptor, "shared", 10},
	    {&plexus__resource__descriptor, "allocation_info", 11},
	    {&plexus__resource__descriptor, "provider_id", 12},
	    {&plexus__resource__descriptor, "reservations", 13},
	    {&plexus__resource__reservation_info__descriptor, "principal", 1},
	    {&plexus__resource__reservation_info__descriptor, "labels", 2},
	    {&plexus__resource__reservation_info__descriptor, "role", 3},
	    {&plexus__resource__reservation_info__descriptor, "type", 4},
	    {&plexus__attribute__descriptor, "set", 6},
	    {&plexus__attribute__descriptor, "text", 5},
	    {&plexus__framework_info__descriptor, "failover_timeout", 4},
	    {&plexus__framework_info__descriptor, "capabilities", 10},
	    {&plexus__framework_info__descriptor, "roles", 12},
	    {&plexus__agent_info__descriptor, "port", 8},
	    {&plexus__agent_info__descriptor, "id", 6},
	    {&plexus__agent_info__descriptor, "domain", 10},
	    {&plexus__command_info__descriptor, "shell", 6},
	    {&plexus__command_info__descriptor, "arguments", 7},
	    {&plexus__command_info__descriptor, "user", 5},
	    {&plexus__executor_info__descriptor, "type", 15},
	    {&plexus__executor_info__descriptor, "framework_id", 8},
	    {&plexus__executor_info__descriptor, "shutdown_grace_period", 13},
	    {&plexus__task_info__descriptor, "command", 7},
	    {&plexus__task_info__descriptor, "kill_policy", 12},
	    {&plexus__task_info__descriptor, "max_completion_time", 14},
	    {&plexus__task_status__descriptor, "message", 4},
	    {&plexus__task_status__descriptor, "source", 9},
	    {&plexus__task_status__descriptor, "reason", 10},
	    {&plexus__task_status__descriptor, "uuid", 11},
	    {&plexus__task_status__descriptor, "limitation", 16},
	    {&plexus__offer__descriptor, "attributes", 7},
	    {&plexus__offer__descriptor, "allocation_info", 10},
	    {&plexus__offer__operation__descriptor, "launch_group", 7},
	    {&plexus__offer__operation__descriptor, "id", 12},
	    {&plexus__offer__operation__descriptor, "shrink_volume", 14},
	    {&plexus__filters__descriptor, "refuse_seconds", 1},
	    {&plexus__label__descriptor, "value", 2},
	    {&plexus__executor_info__descriptor, "container", 11},
	    {&plexus__task_info__descriptor, "container", 9},
	    {&plexus__task__descriptor, "container", 13},
	    {&plexus__task_status__descriptor, "container_status", 13},
	    {&plexus__offer__operation__descriptor, "create_disk", 15},
	    {&plexus__offer__operation__descriptor, "destroy_disk", 16},
	    {&plexus__container_info__descriptor, "linux_info", 8},
	    {&plexus__container_info__descriptor, "tty_info", 10},
	    {&plexus__linux_info__descriptor, "share_pid_namespace", 4},
	    {&plexus__container_status__descriptor, "container_id", 4},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const ProtobufCFieldDescriptor *f =
		    protobuf_c_message_descriptor_get_field_by_name(fields[i].desc, fields[i].name);
		cr_assert_not_null(f, "%s has no field %s", fields[i].desc->name, fields[i].name);
		cr_assert_eq(f->id, fields[i].id, "%s.%s is %u, Mesos has %u", fields[i].desc->name,
		             fields[i].name, f->id, fields[i].id);
	}
}

Test(proto, enum_values_match_mesos)
{
	cr_assert_eq(PLEXUS__TASK_STATE__TASK_STAGING, 6);
	cr_assert_eq(PLEXUS__TASK_STATE__TASK_STARTING, 0);
	cr_assert_eq(PLEXUS__TASK_STATE__TASK_KILLING, 8);
	cr_assert_eq(PLEXUS__TASK_STATE__TASK_UNKNOWN, 13);
	cr_assert_eq(PLEXUS__TASK_STATUS__REASON__REASON_CONTAINER_LIMITATION_MEMORY, 8);
	cr_assert_eq(PLEXUS__TASK_STATUS__REASON__REASON_RECONCILIATION, 9);
	cr_assert_eq(PLEXUS__TASK_STATUS__REASON__REASON_MAX_COMPLETION_TIME_REACHED, 33);
	cr_assert_eq(PLEXUS__TASK_STATUS__SOURCE__SOURCE_EXECUTOR, 2);
	cr_assert_eq(PLEXUS__OFFER__OPERATION__TYPE__LAUNCH_GROUP, 6);
	cr_assert_eq(PLEXUS__OFFER__OPERATION__TYPE__DESTROY, 5);
	cr_assert_eq(PLEXUS__VALUE__TYPE__SET, 2);
	cr_assert_eq(PLEXUS__RESOURCE__RESERVATION_INFO__TYPE__DYNAMIC, 2);
	cr_assert_eq(PLEXUS__FRAMEWORK_INFO__CAPABILITY__TYPE__RESERVATION_REFINEMENT, 7);
	cr_assert_eq(PLEXUS__RESOURCE__DISK_INFO__SOURCE__TYPE__MOUNT, 2);
}

Test(proto, packages_and_defaults)
{
	cr_assert_str_eq(plexus__resource__descriptor.name, "plexus.Resource");
	cr_assert_str_eq(plexus__internal__register_framework_message__descriptor.name,
	                 "plexus.internal.RegisterFrameworkMessage");
	Plexus__Resource r = PLEXUS__RESOURCE__INIT;
	cr_assert_str_eq(r.role, "*");
	Plexus__Filters f = PLEXUS__FILTERS__INIT;
	cr_assert_eq(f.refuse_seconds, 5.0);
	Plexus__CommandInfo c = PLEXUS__COMMAND_INFO__INIT;
	cr_assert_eq(c.shell, 1);
}
