/*
 * cmd_ci_rules.c - how `stagehand ci` reads the CI environment and maps a
 * branch or tag to a stage (dep_ci_detect, dep_ci_stage); the rules are
 * documented at the top of cmd_ci.c. Separate from cmd_ci.c so unit tests
 * link them without the command.
 */
#include "dep.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run argv in dir; first line of stdout into out. Returns exit status or -1. */
static int run_capture(const char *dir, char *const argv[], char *out, size_t n)
{
    int fds[2];
    pid_t pid;
    int status = -1;
    size_t len = 0;

    out[0] = 0;
    if (pipe(fds) < 0) {
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 2);
        }
        if (dir && chdir(dir) != 0) {
            _exit(127);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        char buf[4096];
        ssize_t r = read(fds[0], buf, sizeof(buf));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        for (ssize_t i = 0; i < r; i++) {
            if (len + 1 < n) {
                out[len++] = buf[i];
            }
        }
    }
    close(fds[0]);
    out[len] = 0;
    char *nl = strchr(out, '\n');
    if (nl) {
        *nl = 0;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *env(const char *k)
{
    const char *v = getenv(k);
    return v && *v ? v : NULL;
}

/* 1 when tag's commit is on one of the release branches, 0 when git says
 * it is not, 1 (with *unverified) when git cannot tell. */
static int tag_on_release_branch(const char *root, const char *tag, const cJSON *branches,
                                 int *unverified)
{
    const cJSON *b;
    char out[256];
    int any_branch = 0;

    *unverified = 0;
    char ref[600];
    snprintf(ref, sizeof(ref), "%s^{commit}", tag);
    char *const rev[] = {"git", "rev-parse", "-q", "--verify", ref, NULL};
    if (run_capture(root, rev, out, sizeof(out)) != 0 || !out[0]) {
        *unverified = 1;
        return 1;
    }
    char commit[128];
    snprintf(commit, sizeof(commit), "%s", out);
    cJSON_ArrayForEach(b, branches)
    {
        if (!cJSON_IsString(b)) {
            continue;
        }
        const char *prefixes[] = {"", "origin/", "refs/remotes/origin/", NULL};
        for (int i = 0; prefixes[i]; i++) {
            char br[512];
            snprintf(br, sizeof(br), "%s%s", prefixes[i], b->valuestring);
            char *const vr[] = {"git", "rev-parse", "-q", "--verify", br, NULL};
            if (run_capture(root, vr, out, sizeof(out)) != 0) {
                continue;
            }
            any_branch = 1;
            char *const anc[] = {"git", "merge-base", "--is-ancestor", commit, br, NULL};
            if (run_capture(root, anc, out, sizeof(out)) == 0) {
                return 1;
            }
        }
    }
    if (!any_branch) {
        *unverified = 1;
        return 1;
    }
    return 0;
}

int dep_ci_detect(const char *root, char *provider, size_t pn, char *branch, size_t bn, char *tag,
                  size_t tn, int *is_pr)
{
    const char *v;

    branch[0] = tag[0] = 0;
    *is_pr = 0;
    if (env("TRAVIS_BRANCH") || env("TRAVIS_PULL_REQUEST") || env("TRAVIS_TAG") || env("TRAVIS")) {
        snprintf(provider, pn, "travis");
        v = env("TRAVIS_PULL_REQUEST");
        *is_pr = v && strcmp(v, "false") != 0;
        snprintf(tag, tn, "%s", env("TRAVIS_TAG") ? env("TRAVIS_TAG") : "");
        snprintf(branch, bn, "%s", env("TRAVIS_BRANCH") ? env("TRAVIS_BRANCH") : "");
        if (tag[0] && strcmp(branch, tag) == 0) {
            branch[0] = 0; /* Travis tag builds put the tag in TRAVIS_BRANCH */
        }
        return 0;
    }
    if (env("GITHUB_REF") || env("GITHUB_EVENT_NAME") || env("GITHUB_ACTIONS")) {
        snprintf(provider, pn, "github");
        v = env("GITHUB_EVENT_NAME");
        *is_pr = v && strncmp(v, "pull_request", 12) == 0;
        v = env("GITHUB_REF");
        if (v && strncmp(v, "refs/heads/", 11) == 0) {
            snprintf(branch, bn, "%s", v + 11);
        } else if (v && strncmp(v, "refs/tags/", 10) == 0) {
            snprintf(tag, tn, "%s", v + 10);
        } else if (v && strncmp(v, "refs/pull/", 10) == 0) {
            *is_pr = 1;
        }
        return 0;
    }
    if (env("GITLAB_CI") || env("CI_COMMIT_BRANCH") || env("CI_COMMIT_TAG") ||
        env("CI_COMMIT_REF_NAME")) {
        snprintf(provider, pn, "gitlab");
        *is_pr = env("CI_MERGE_REQUEST_IID") != NULL;
        snprintf(tag, tn, "%s", env("CI_COMMIT_TAG") ? env("CI_COMMIT_TAG") : "");
        snprintf(branch, bn, "%s", env("CI_COMMIT_BRANCH") ? env("CI_COMMIT_BRANCH") : "");
        return 0;
    }
    snprintf(provider, pn, "git");
    {
        char out[512];
        char *const d[] = {"git", "describe", "--exact-match", "--tags", "HEAD", NULL};
        if (run_capture(root, d, out, sizeof(out)) == 0 && out[0]) {
            snprintf(tag, tn, "%s", out);
        }
        char *const b[] = {"git", "rev-parse", "--abbrev-ref", "HEAD", NULL};
        if (run_capture(root, b, out, sizeof(out)) == 0 && out[0] && strcmp(out, "HEAD") != 0) {
            snprintf(branch, bn, "%s", out);
        }
    }
    if (!branch[0] && !tag[0]) {
        return -1;
    }
    return 0;
}

int dep_ci_stage(const cJSON *custom_ci, const char *root, const char *branch, const char *tag,
                 int is_pr, char *stage, size_t n, char *why, size_t wn)
{
    const cJSON *branches =
        custom_ci ? cJSON_GetObjectItemCaseSensitive(custom_ci, "branches") : NULL;
    const cJSON *tag_stage =
        custom_ci ? cJSON_GetObjectItemCaseSensitive(custom_ci, "tagStage") : NULL;
    const cJSON *tag_branches =
        custom_ci ? cJSON_GetObjectItemCaseSensitive(custom_ci, "tagBranches") : NULL;
    cJSON *defaults = NULL;
    int rc = 0;

    stage[0] = 0;
    if (is_pr) {
        snprintf(why, wn, "pull request builds never deploy");
        return 0;
    }
    if (tag && tag[0]) {
        int unverified = 0;
        if (!cJSON_IsArray(tag_branches)) {
            defaults = cJSON_CreateStringArray((const char *[]){"master", "main"}, 2);
            tag_branches = defaults;
        }
        if (cJSON_IsNull(tag_stage) || cJSON_IsFalse(tag_stage)) {
            snprintf(why, wn, "tag %s: tags do not deploy (custom.ci.tagStage is off)", tag);
        } else if (!tag_on_release_branch(root, tag, tag_branches, &unverified)) {
            snprintf(why, wn, "tag %s is not on a release branch (custom.ci.tagBranches)", tag);
        } else {
            snprintf(stage, n, "%s",
                     cJSON_IsString(tag_stage) ? tag_stage->valuestring : "production");
            snprintf(why, wn, "tag %s%s", tag,
                     unverified ? " (release branch not verified: no git history)" : "");
            rc = 1;
        }
        cJSON_Delete(defaults);
        return rc;
    }
    if (branch && branch[0]) {
        const cJSON *m =
            cJSON_IsObject(branches) ? cJSON_GetObjectItemCaseSensitive(branches, branch) : NULL;
        if (!cJSON_IsObject(branches) && strcmp(branch, "develop") == 0) {
            snprintf(stage, n, "dev");
            rc = 1;
        } else if (cJSON_IsString(m) && m->valuestring[0]) {
            snprintf(stage, n, "%s", m->valuestring);
            rc = 1;
        }
        if (rc) {
            snprintf(why, wn, "branch %s", branch);
        } else {
            snprintf(why, wn, "branch %s is not mapped to a stage (custom.ci.branches)", branch);
        }
        return rc;
    }
    snprintf(why, wn, "no branch or tag found in the CI environment or git");
    return 0;
}
