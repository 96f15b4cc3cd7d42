/*
 * main.c - stagehand's entry point: the git-style command table, option
 * parsing, and the per-region loop.
 *
 * The table (commands[]) is read by one dispatcher: it matches the command
 * words, parses the common options into struct dep_opts, checks what the
 * row's flags demand (-s, project loading), initialises output and
 * transport, then calls cmd_<verb> once per region (v0.5: without -r a
 * command runs for every region the stage has in _meta/variables).
 *
 * deploy, recover, status, diff, rollback (txn_*.c) and rehearse
 * (rehearse.c) are the transaction/rehearsal commands.
 *
 * Exit codes (enum dep_exit in dep.h; also printed by `stagehand --help`):
 *   0 ok; 1 a step failed; 2 usage / not implemented; 3 invalid project;
 *   4 partial (some items failed, others succeeded); 5 transport or
 *   credentials; 6 conflict (lock held, meta changed remotely);
 *   7 deploy failed and was rolled back; 8 rehearse found a violation;
 *   9 rehearse's harness failed a case (worker, clone, restore), no violation.
 */
#include "dep.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ the table */

struct cmd {
    const char *name; /* "function deploy" */
    int (*fn)(struct dep_ctx *c);
    int flags;         /* DEP_CMD_* */
    const char *usage; /* after "stagehand <name>" */
    const char *help;
};

#define V05 (DEP_CMD_PROJECT | DEP_CMD_STAGE)
#define TXN (DEP_CMD_PROJECT | DEP_CMD_STAGE | DEP_CMD_OWN_FLAGS | DEP_CMD_VARS_OPTIONAL)

static const struct cmd commands[] = {
    {"project init", cmd_project_init, DEP_CMD_STAGE | DEP_CMD_PROJECT | DEP_CMD_VARS_OPTIONAL,
     "-s STAGE -r REGION [-c]",
     "Create the stage and region variables in _meta/variables (no AWS call with -c;\n"
     "without -c, resources deploy follows). Fails if the stage+region exists."},
    {"meta sync", cmd_meta_sync, V05 | DEP_CMD_OWN_FLAGS, "-s STAGE [-r REGION] [--push]",
     "Sync the stage's variables file with s3://<custom.meta.name>/<keyPrefix><file>: a remote\n"
     "file overwrites the local one; none -> create bucket + put. --push writes local -> remote\n"
     "with If-Match on the ETag read (a concurrent change is a conflict, exit 6)."},
    {"resources deploy", cmd_resources_deploy, V05, "-s STAGE [-r REGION]",
     "Create or update the stage's CloudFormation stack (<project>-<stage>-r) from\n"
     "s-resources-cf.json, wait for it, store its outputs as region variables."},
    {"function deploy", cmd_function_deploy, V05, "-s STAGE [-r REGION] [-a | NAME...] [-f ALIAS]",
     "Package, create/update and publish each function (5 at a time), then point alias\n"
     "<stage> at the new versions. Unchanged code publishes nothing."},
    {"event deploy", cmd_event_deploy, V05, "-s STAGE [-r REGION] [-a | NAME...]",
     "Wire each function's events (sns, s3, schedule, dynamodb/kinesis streams, iot) to\n"
     "alias <stage>. Any failed event exits non-zero."},
    {"endpoint deploy", cmd_endpoint_deploy, V05,
     "-s STAGE [-r REGION] [-a | NAME...] [-e ALIAS] [-d TEXT]",
     "Put each endpoint into the project's REST API and deploy API stage <stage> with\n"
     "stage variable functionAlias=<stage>. Any failed endpoint exits non-zero and leaves\n"
     "the stage on its previous deployment."},
    {"function rollback", cmd_function_rollback, V05,
     "-s STAGE [-r REGION] (-a | NAME...) [-v VERSION]",
     "Point alias <stage> at VERSION (default: the highest version below the current one)."},
    {"ci", cmd_ci, DEP_CMD_VARS_OPTIONAL, "[-s STAGE] [-r REGION]",
     "Pick the stage from the CI environment (Travis, GitHub Actions, GitLab, else git):\n"
     "develop -> dev, a tag on master/main -> production, pull requests never deploy;\n"
     "configurable in s-project.json custom.ci {branches, tagStage, tagBranches, region}.\n"
     "Then run the whole flow (deploy, or the six v0.5 steps)."},
    {"deploy", cmd_deploy, TXN, "-s STAGE [-r REGION]", "Deploy all steps as one transaction."},
    {"recover", cmd_recover, TXN, "-s STAGE [-r REGION]",
     "Finish or undo a deploy whose process died."},
    {"status", cmd_status, TXN, "-s STAGE [-r REGION]", "Show what a stage runs."},
    {"diff", cmd_diff, TXN, "-s STAGE [-r REGION]", "Show what a deploy would change."},
    {"rollback", cmd_rollback, TXN, "-s STAGE [-r REGION]",
     "Roll a stage back to its previous deploy."},
    {"rehearse", cmd_rehearse, TXN, "-s STAGE [-r REGION] [rehearse options]",
     "Replay a deploy injecting a fault at every call (error, throttle, reset, timeout,\n"
     "kill, crash) and check that every stage ends all-old or all-new. Exit 8 on a\n"
     "violation; else exit 9 when a case ended in a harness error (rehearse's own\n"
     "infrastructure failed: a worker died, a greenroom did not start, a snapshot restore\n"
     "failed...), counted apart from violations (JUnit: <error>, not <failure>).\n"
     "Without an endpoint it runs its own greenrooms (found beside stagehand\n"
     "or on PATH), the cases in parallel; against --endpoint-url URL of a greenroom on\n"
     "this machine, on clones of it; of one elsewhere (or --jobs 1), one at a time on it\n"
     "and without the crash kind. Runs sharing one greenroom take turns on it.\n"
     "  --greenroom BIN   run (and restart) rehearse's own greenrooms from BIN\n"
     "  --jobs N          parallel workers, each on its own greenroom (default: 2 x cores)\n"
     "  --kinds K,..      fault kinds (default all)     --only K --kind K  one case\n"
     "  --max-cases N     a sample, --seed S            --flow deploy|v05  the flow\n"
     "  --watch S,..      other stages that must not change\n"
     "  --junit FILE      JUnit XML, one test case per (k, kind)   --keep-tmp"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage_all(FILE *f)
{
    fprintf(f,
            "usage: stagehand <command> [options]\n\n"
            "Serverless v0.5 CD flow, command-compatible with `sls`, against AWS or greenroom.\n\n"
            "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        fprintf(f, "  %-18s %s\n", commands[i].name, commands[i].usage);
    }
    fprintf(f,
            "\ncommon options:\n"
            "  -s, --stage STAGE        stage (required by most commands)\n"
            "  -r, --region REGION      region (default: every region of the stage in _meta)\n"
            "  -p, --project-dir DIR    project root (default .)\n"
            "  --endpoint-url URL       e.g. http://127.0.0.1:4566 (also "
            "AWS_ENDPOINT_URL[_<SERVICE>])\n"
            "  --output json|text       json: one JSON document on stdout\n"
            "  --strict                 undefined templates/variables are errors\n"
            "  -h, --help               help for a command\n"
            "  --version                print the version\n"
            "\nenvironment: AWS_/SERVERLESS_ADMIN_AWS_/AWS_<STAGE>_/SERVERLESS_ADMIN_AWS_<STAGE>_ "
            "ACCESS_KEY_ID,\n"
            "  SECRET_ACCESS_KEY, SESSION_TOKEN; AWS_PROFILE, AWS_<STAGE>_PROFILE; CI=true (plain "
            "output);\n"
            "  STAGEHAND_MAX_ATTEMPTS (6), STAGEHAND_RETRY_BUDGET_MS (120000), "
            "STAGEHAND_RETRY_BASE_MS (200),\n"
            "  STAGEHAND_RETRY_CAP_MS (20000), STAGEHAND_CALL_TIMEOUT (s, 60), STAGEHAND_POLL_MS,\n"
            "  STAGEHAND_STACK_TIMEOUT (s, 3600), STAGEHAND_CI_FLOW=v05 (ci: the six steps, not "
            "deploy)\n"
            "\nexit codes:\n"
            "  0 ok (or nothing to do)        1 a step failed (AWS error named)\n"
            "  2 usage / not implemented      3 invalid project (JSON, fields, --strict)\n"
            "  4 partial: some items failed   5 transport / credentials\n"
            "  6 conflict (lock, meta ETag)   7 deploy failed and was rolled back\n"
            "  8 rehearse found a violation   9 rehearse harness error, no violation\n");
}

static void usage_cmd(FILE *f, const struct cmd *c)
{
    fprintf(f, "usage: stagehand %s %s\n\n%s\n", c->name, c->usage, c->help);
    fprintf(f, "\noptions: -s/--stage, -r/--region, -a/--all, -c/--noExeCf, -f/--alias, "
               "-e/--aliasEndpoint,\n"
               "  -d/--description, -v/--version, -p/--project-dir, --endpoint-url, --output json, "
               "--strict\n"
               "  (exit codes: stagehand --help)\n");
}

/* ------------------------------------------------------------- options */

static int takes_value(const char *o)
{
    static const char *const v[] = {"-s",
                                    "--stage",
                                    "-r",
                                    "--region",
                                    "-f",
                                    "--alias",
                                    "--aliasFunction",
                                    "-e",
                                    "--aliasEndpoint",
                                    "-d",
                                    "--description",
                                    "-v",
                                    "-p",
                                    "--project-dir",
                                    "--endpoint-url",
                                    "--output",
                                    NULL};
    for (int i = 0; v[i]; i++) {
        if (strcmp(o, v[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Returns 0, 1 for --help, or -1 on a usage error (reported). */
static int parse_opts(int argc, char **argv, const struct cmd *cmd, struct dep_opts *o)
{
    o->names = calloc((size_t)argc + 1, sizeof(char *));
    o->rest = calloc((size_t)argc + 1, sizeof(char *));
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        char name[64];
        const char *val = NULL;
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            o->names[o->names_n++] = a;
            continue;
        }
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        if (eq) {
            snprintf(name, sizeof(name), "%.*s", (int)(eq - a), a);
            val = eq + 1;
        } else {
            snprintf(name, sizeof(name), "%s", a);
        }
        if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
            return 1;
        }
        if (takes_value(name) && !val) {
            /* -e without a value is v0.5's boolean aliasEndpoint */
            if ((strcmp(name, "-e") == 0 || strcmp(name, "--aliasEndpoint") == 0) &&
                (i + 1 >= argc || argv[i + 1][0] == '-')) {
                o->alias_endpoint = 1;
                continue;
            }
            if (i + 1 >= argc) {
                fprintf(stderr, "stagehand %s: option %s needs a value\n", cmd->name, name);
                return -1;
            }
            val = argv[++i];
        }
        if (!strcmp(name, "-s") || !strcmp(name, "--stage")) {
            o->stage = val;
        } else if (!strcmp(name, "-r") || !strcmp(name, "--region")) {
            o->region = val;
        } else if (!strcmp(name, "-a") || !strcmp(name, "--all")) {
            o->all = 1;
        } else if (!strcmp(name, "-c") || !strcmp(name, "--noExeCf")) {
            o->no_exec_cf = 1;
        } else if (!strcmp(name, "-f") || !strcmp(name, "--alias") ||
                   !strcmp(name, "--aliasFunction")) {
            o->alias = val;
        } else if (!strcmp(name, "-e") || !strcmp(name, "--aliasEndpoint")) {
            o->alias_endpoint = 1;
            o->alias_endpoint_name = val;
        } else if (!strcmp(name, "-d") || !strcmp(name, "--description")) {
            o->description = val;
        } else if (!strcmp(name, "-v")) {
            o->version = val;
        } else if (!strcmp(name, "-p") || !strcmp(name, "--project-dir")) {
            o->project_dir = val;
        } else if (!strcmp(name, "--endpoint-url")) {
            o->endpoint_url = val;
        } else if (!strcmp(name, "--output")) {
            if (strcmp(val, "json") == 0) {
                o->output = DEP_OUT_JSON;
            } else if (strcmp(val, "text") != 0) {
                fprintf(stderr, "stagehand %s: --output takes json or text\n", cmd->name);
                return -1;
            }
        } else if (!strcmp(name, "--strict")) {
            o->strict = 1;
        } else if (!strcmp(name, "--dry-run")) {
            o->dry_run = 1;
        } else if (!strcmp(name, "-y") || !strcmp(name, "--yes")) {
            o->yes = 1;
        } else if (!strcmp(name, "-t") || !strcmp(name, "--dontDeleteTmp")) {
            /* v0.5 keeps _meta/_tmp; stagehand builds zips in memory */
        } else if (cmd->flags & DEP_CMD_OWN_FLAGS) {
            o->rest[o->rest_n++] = a;
        } else {
            fprintf(stderr, "stagehand %s: unknown option %s (see stagehand %s --help)\n",
                    cmd->name, a, cmd->name);
            return -1;
        }
    }
    return 0;
}

/* Regions of the stage found in _meta/variables (the "region" value of each
 * s-variables-<stage>-*.json). Returns how many (at most max). */
static int stage_regions(const char *dir, const char *stage, char regions[][64], int max)
{
    char path[4200], prefix[128], low[64];
    DIR *d;
    struct dirent *e;
    int n = 0;
    size_t i;

    for (i = 0; stage[i] && i + 1 < sizeof(low); i++) {
        low[i] = (char)(stage[i] >= 'A' && stage[i] <= 'Z' ? stage[i] + 32 : stage[i]);
    }
    low[i] = 0;
    snprintf(path, sizeof(path), "%s/_meta/variables", dir);
    snprintf(prefix, sizeof(prefix), "s-variables-%s-", low);
    d = opendir(path);
    if (!d) {
        return 0;
    }
    while ((e = readdir(d)) && n < max) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) {
            continue;
        }
        char file[4500];
        struct dep_err err;
        snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
        cJSON *j = dep_json_load_file(file, &err);
        const cJSON *r = j ? cJSON_GetObjectItemCaseSensitive(j, "region") : NULL;
        if (cJSON_IsString(r) && r->valuestring[0]) {
            snprintf(regions[n++], 64, "%s", r->valuestring);
        }
        cJSON_Delete(j);
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    const struct cmd *cmd = NULL;
    struct dep_opts opts = {0};
    struct dep_ctx ctx;
    struct dep_err err;
    int consumed = 0, rc = DEP_EXIT_OK;
    char regions[16][64];
    int n_regions = 0;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage_all(stdout);
        return argc < 2 ? DEP_EXIT_USAGE : DEP_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("stagehand %s\n", DEP_VERSION);
        return DEP_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS && !cmd; i++) {
        const char *name = commands[i].name;
        const char *sp = strchr(name, ' ');
        if (sp) {
            if (argc >= 3 && strncmp(argv[1], name, (size_t)(sp - name)) == 0 &&
                argv[1][sp - name] == 0 && strcmp(argv[2], sp + 1) == 0) {
                cmd = &commands[i];
                consumed = 2;
            }
        } else if (strcmp(argv[1], name) == 0) {
            cmd = &commands[i];
            consumed = 1;
        }
    }
    if (!cmd) {
        fprintf(stderr, "stagehand: unknown command \"%s%s%s\" (see stagehand --help)\n", argv[1],
                argc > 2 ? " " : "", argc > 2 && argv[2][0] != '-' ? argv[2] : "");
        return DEP_EXIT_USAGE;
    }
    int p = parse_opts(argc - 1 - consumed, argv + 1 + consumed, cmd, &opts);
    if (p != 0) {
        if (p > 0) {
            usage_cmd(stdout, cmd);
        }
        free(opts.names);
        free(opts.rest);
        return p > 0 ? DEP_EXIT_OK : DEP_EXIT_USAGE;
    }
    if (!opts.project_dir) {
        opts.project_dir = ".";
    }
    if (opts.output != DEP_OUT_JSON) {
        const char *ci = getenv("CI");
        opts.output =
            (ci && *ci && strcmp(ci, "false") != 0) || !isatty(1) ? DEP_OUT_PLAIN : DEP_OUT_TTY;
    }
    dep_out_init(opts.output, cmd->name);
    memset(&ctx, 0, sizeof(ctx));
    ctx.opts = &opts;
    ctx.command = cmd->name;
    if ((cmd->flags & DEP_CMD_STAGE) && !opts.stage) {
        dep_out_errorf(cmd->name, "-s STAGE is required");
        rc = DEP_EXIT_USAGE;
        goto out;
    }
    if (opts.stage) {
        snprintf(ctx.stage, sizeof(ctx.stage), "%s", opts.stage);
    }
    dep_err_clear(&err);
    if (dep_transport_init(opts.endpoint_url, opts.stage, &err) < 0) {
        dep_out_error(cmd->name, &err);
        rc = dep_err_exit(&err);
        goto out;
    }
    if (opts.region) {
        snprintf(regions[0], sizeof(regions[0]), "%s", opts.region);
        n_regions = 1;
    } else if (opts.stage) {
        n_regions = stage_regions(opts.project_dir, opts.stage, regions, 16);
    }
    if (n_regions == 0) {
        const char *r = getenv("AWS_REGION");
        if (!r || !*r) {
            r = getenv("AWS_DEFAULT_REGION");
        }
        snprintf(regions[0], sizeof(regions[0]), "%s", r && *r ? r : "us-east-1");
        n_regions = 1;
    }
    for (int i = 0; i < n_regions; i++) {
        snprintf(ctx.region, sizeof(ctx.region), "%s", regions[i]);
        ctx.account[0] = 0;
        if (cmd->flags & DEP_CMD_PROJECT) {
            int r = dep_ctx_load_project(&ctx, (cmd->flags & DEP_CMD_VARS_OPTIONAL) != 0);
            if (r) {
                rc = r;
                break;
            }
        }
        int r = cmd->fn(&ctx);
        if (r && !rc) {
            rc = r;
        }
        if (r) {
            break;
        }
    }
out:
    rc = dep_out_finish(rc);
    dep_project_release(&ctx.project);
    dep_transport_cleanup();
    free(opts.names);
    free(opts.rest);
    return rc;
}
