/*
 * main.c - the greenroom command: flags, start-up order, shutdown.
 *
 * Start: registry -> store (migrations) -> journal -> fault rules ->
 * services' start hooks -> listen -> print the port (first stdout line).
 * SIGINT/SIGTERM: stop accepting, let in-flight requests finish, stop the
 * services, close the store.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "fault.h"

#pragma weak fault_load_file

int emu_accounts_load(const char *path, char *err, size_t errlen);
void emu_control_started(double t, const char *credentials);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: greenroom [options]\n"
            "\n"
            "An offline AWS emulator: S3, Lambda, API Gateway, CloudFormation, IAM, STS,\n"
            "SNS, SQS and CloudWatch Events on one port, SigV4-checked, SQLite-backed.\n"
            "\n"
            "  --host ADDR          address to listen on (default 127.0.0.1)\n"
            "  --port N             port (default 4566; 0 picks a free one; the port is\n"
            "                       printed as the first line of stdout)\n"
            "  --state-dir DIR      where state lives (default ./.greenroom)\n"
            "  --ephemeral          keep everything in memory / a temp dir, gone at exit\n"
            "  --credentials FILE   access keys: lines 'ACCESS_KEY SECRET ACCOUNT_ID'\n"
            "  --auth on|off        verify SigV4 signatures (default on)\n"
            "  --faults FILE        load fault rules (JSON array) at start\n"
            "  --max-body BYTES     cap for request bodies held in memory (default 128 MiB)\n"
            "  --log-format text|json\n"
            "  --help, --version\n"
            "\n"
            "Default credentials: test/test (account 000000000000); any 12-digit access key\n"
            "with secret 'test' is that account.\n");
}

static long parse_long(const char *s, const char *flag, long min, long max)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != 0 || v < min || v > max) {
        fprintf(stderr, "greenroom: %s: invalid value '%s'\n", flag, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *state_dir = "./.greenroom";
    const char *credentials = NULL;
    const char *faults = NULL;
    enum { OPT_HOST = 256, OPT_PORT, OPT_STATE, OPT_EPH, OPT_CRED, OPT_AUTH, OPT_LOG, OPT_FAULTS,
           OPT_MAXBODY, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {
        {"host", required_argument, NULL, OPT_HOST},
        {"port", required_argument, NULL, OPT_PORT},
        {"state-dir", required_argument, NULL, OPT_STATE},
        {"ephemeral", no_argument, NULL, OPT_EPH},
        {"credentials", required_argument, NULL, OPT_CRED},
        {"auth", required_argument, NULL, OPT_AUTH},
        {"log-format", required_argument, NULL, OPT_LOG},
        {"faults", required_argument, NULL, OPT_FAULTS},
        {"max-body", required_argument, NULL, OPT_MAXBODY},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_HOST:
            snprintf(emu_cfg.host, sizeof(emu_cfg.host), "%s", optarg);
            break;
        case OPT_PORT:
            emu_cfg.port = (int)parse_long(optarg, "--port", 0, 65535);
            break;
        case OPT_STATE:
            state_dir = optarg;
            break;
        case OPT_EPH:
            emu_cfg.ephemeral = 1;
            break;
        case OPT_CRED:
            credentials = optarg;
            break;
        case OPT_AUTH:
            if (strcmp(optarg, "on") == 0) {
                emu_cfg.auth = 1;
            } else if (strcmp(optarg, "off") == 0) {
                emu_cfg.auth = 0;
            } else {
                fprintf(stderr, "greenroom: --auth takes on or off\n");
                return 2;
            }
            break;
        case OPT_LOG:
            if (strcmp(optarg, "json") == 0) {
                emu_cfg.log_json = 1;
            } else if (strcmp(optarg, "text") != 0) {
                fprintf(stderr, "greenroom: --log-format takes text or json\n");
                return 2;
            }
            break;
        case OPT_FAULTS:
            faults = optarg;
            break;
        case OPT_MAXBODY:
            emu_cfg.max_body = (size_t)parse_long(optarg, "--max-body", 1024, 1L << 40);
            break;
        case 'h':
        case OPT_HELP:
            usage(stdout);
            return 0;
        case OPT_VERSION:
            printf("greenroom %s\n", EMU_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "greenroom: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    double t0 = emu_now();
    emu_control_started(t0, credentials);
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits this */

    char err[512];
    if (credentials && emu_accounts_load(credentials, err, sizeof(err)) != 0) {
        fprintf(stderr, "greenroom: %s\n", err);
        return 2;
    }
    emu_services_init();
    if (emu_store_open(state_dir, emu_cfg.ephemeral) != 0) {
        fprintf(stderr, "greenroom: cannot open the state in %s\n", state_dir);
        return 1;
    }
    emu_journal_open();
    if (faults) {
        if (fault_load_file == NULL) {
            fprintf(stderr, "greenroom: fault injection is not built in\n");
            return 2;
        }
        if (fault_load_file(faults, err, sizeof(err)) != 0) {
            fprintf(stderr, "greenroom: --faults %s: %s\n", faults, err);
            return 2;
        }
    }
    if (emu_http_start() != 0) {
        return 1;
    }
    for (size_t i = 0; i < emu_services_count(); i++) {
        const struct emu_service *s = emu_service_at(i);
        if (s->start && s->start() != 0) {
            emu_error_log("service %s failed to start", s->name);
        }
    }
    printf("%d\n", emu_cfg.port);
    fflush(stdout);
    emu_info("greenroom %s listening on %s (state: %s%s, auth %s, %zu services, ready in %.1f ms)",
             EMU_VERSION, emu_base_url(), emu_cfg.ephemeral ? "ephemeral " : "",
             emu_state_dir(), emu_cfg.auth ? "on" : "off", emu_services_count(),
             (emu_now() - t0) * 1000.0);

    int sig = 0;
    sigwait(&set, &sig);
    emu_info("signal %d: draining requests and stopping", sig);
    /* No new connections; then the services stop their workers and function
     * processes (which ends the runtime long polls holding connections);
     * then the daemon waits for what is still in flight. */
    emu_http_quiesce();
    for (size_t i = 0; i < emu_services_count(); i++) {
        const struct emu_service *s = emu_service_at(i);
        if (s->stop) {
            s->stop();
        }
    }
    emu_http_stop();
    emu_journal_close();
    emu_store_close();
    emu_info("stopped");
    return 0;
}
