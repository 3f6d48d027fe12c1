/* lam_cmd.h — the subcommands of `plexus lambda` (plexus-lambda). */
#ifndef LAM_CMD_H
#define LAM_CMD_H

int lam_cmd_generate(int argc, char **argv);
int lam_cmd_query(int argc, char **argv);
int lam_cmd_serve(int argc, char **argv);
int lam_cmd_view(int argc, char **argv);
int lam_cmd_up(int argc, char **argv);

#endif
