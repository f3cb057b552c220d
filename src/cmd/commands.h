/* The subcommands of `genoformer`: each parses its own options.
 * Exit status: 0 success, 1 error (bad input, I/O), 2 usage error. */
#ifndef GF_COMMANDS_H
#define GF_COMMANDS_H

enum { GF_EXIT_OK = 0, GF_EXIT_ERROR = 1, GF_EXIT_USAGE = 2 };

int cmd_tokenize(int argc, char *argv[]);
int cmd_train(int argc, char *argv[]);
int cmd_pretrain(int argc, char *argv[]);
int cmd_bench(int argc, char *argv[]);
int cmd_classify(int argc, char *argv[]);
int cmd_embed(int argc, char *argv[]);
int cmd_eval(int argc, char *argv[]);
int cmd_info(int argc, char *argv[]);
int cmd_export(int argc, char *argv[]);

#endif
