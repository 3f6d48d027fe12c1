/* commands.h — the subcommands of `plexus`. Each takes (argc, argv) with argv[0] the
 * command's name and returns the process exit status. */
#ifndef PLEXUS_CLI_COMMANDS_H
#define PLEXUS_CLI_COMMANDS_H

struct plexus_command {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv);
};

int plexus_demo_main(int argc, char **argv);
int plexus_execute_main(int argc, char **argv);
int plexus_local_main(int argc, char **argv);  /* local.c */
int plexus_state_main(int argc, char **argv);  /* state.c */
int plexus_tasks_main(int argc, char **argv);  /* state.c */
int plexus_cat_main(int argc, char **argv);    /* state.c */
int agent_main(int argc, char **argv); /* agent/agent.h */
int master_main(int argc, char **argv); /* master/master.h */

#endif
