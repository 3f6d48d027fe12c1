/* cas_cmd.h — the subcommands of plexus-cassandra. Each takes the arguments after its
 * name and returns the process exit status. */
#ifndef CAS_CMD_H
#define CAS_CMD_H

int cas_cmd_node(int argc, char **argv);    /* a database node (standalone or as an executor) */
int cas_cmd_start(int argc, char **argv);   /* the scheduler */
int cas_cmd_status(int argc, char **argv);  /* ring, tokens, load, up/down */
int cas_cmd_stop(int argc, char **argv);    /* tears the framework down */
int cas_cmd_add_node(int argc, char **argv);
int cas_cmd_cql(int argc, char **argv);     /* the shell */

#endif
