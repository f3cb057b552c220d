/* The subcommands of `genoformer`: each parses its own options and returns
 * its exit status (GF_EXIT_*, src/common.h). */
#ifndef GF_COMMANDS_H
#define GF_COMMANDS_H

#include "src/common.h"

int cmd_tokenize(int argc, char *argv[]);
int cmd_train(int argc, char *argv[]);
int cmd_pretrain(int argc, char *argv[]);
int cmd_bench(int argc, char *argv[]);
int cmd_classify(int argc, char *argv[]);
int cmd_embed(int argc, char *argv[]);
int cmd_eval(int argc, char *argv[]);
int cmd_info(int argc, char *argv[]);
int cmd_export(int argc, char *argv[]);
int cmd_index(int argc, char *argv[]);

#endif
