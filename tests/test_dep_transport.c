/*
 * test_dep_transport.c - stagehand's transport (deployer/transport.c):
 * AWS error parsing in every protocol, XML -> JSON, endpoint and
 * credential resolution, and the retry loop against a scripted local HTTP
 * server (503 / 429 + Retry-After / throttling codes / no retry on 4xx,
 * bounded attempts), plus S3 conditional headers on the wire.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dep.h"

START_TEST(error_rest_xml)
{
    struct dep_err e;
    const char *body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                       "<Message>The specified key does not exist.</Message><Key>k</Key>"
                       "<RequestId>R1</RequestId></Error>";
    dep_err_clear(&e);
    dep_parse_aws_error(DEP_PROTO_REST_XML, 404, "x-amz-request-id: ABC\r\n", body, strlen(body),
                        &e);
    ck_assert_int_eq(e.kind, DEP_ERR_AWS);
    ck_assert_str_eq(e.code, "NoSuchKey");
    ck_assert_str_eq(e.message, "The specified key does not exist.");
    ck_assert_str_eq(e.request_id, "ABC");
    ck_assert_int_eq((int)e.http_status, 404);
    /* HEAD: no body, the status decides */
    dep_err_clear(&e);
    dep_parse_aws_error(DEP_PROTO_REST_XML, 412, NULL, "", 0, &e);
    ck_assert_str_eq(e.code, "PreconditionFailed");
    ck_assert_int_eq(dep_err_exit(&e), DEP_EXIT_CONFLICT);
}
END_TEST

START_TEST(error_query)
{
    struct dep_err e;
    const char *body =
        "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">"
        "<Error><Type>Sender</Type><Code>ValidationError</Code>"
        "<Message>No updates are to be performed.</Message></Error>"
        "<RequestId>5ccc7dcd</RequestId></ErrorResponse>";
    dep_err_clear(&e);
    dep_parse_aws_error(DEP_PROTO_QUERY, 400, NULL, body, strlen(body), &e);
    ck_assert_str_eq(e.code, "ValidationError");
    ck_assert_str_eq(e.message, "No updates are to be performed.");
    ck_assert_str_eq(e.request_id, "5ccc7dcd");
}
END_TEST

START_TEST(error_json)
{
    struct dep_err e;
    const char *body = "{\"__type\":\"com.amazonaws.events#ResourceNotFoundException\",\"message\":"
                       "\"Rule r does not "
                       "exist.\"}";
    dep_err_clear(&e);
    dep_parse_aws_error(DEP_PROTO_JSON, 400, NULL, body, strlen(body), &e);
    ck_assert_str_eq(e.code, "ResourceNotFoundException");
    ck_assert_str_eq(e.message, "Rule r does not exist.");
    /* Message with a capital M, plain __type */
    body = "{\"__type\":\"ThrottlingException\",\"Message\":\"Rate exceeded\"}";
    dep_err_clear(&e);
    dep_parse_aws_error(DEP_PROTO_JSON, 400, NULL, body, strlen(body), &e);
    ck_assert_str_eq(e.code, "ThrottlingException");
    ck_assert_str_eq(e.message, "Rate exceeded");
}
END_TEST

START_TEST(error_rest_json)
{
    struct dep_err e;
    const char *body = "{\"Type\":\"User\",\"message\":\"Function not found: "
                       "arn:aws:lambda:us-east-1:0:function:x\"}";
    dep_err_clear(&e);
    dep_parse_aws_error(DEP_PROTO_REST_JSON, 404,
                        "HTTP/1.1 404 Not Found\r\nx-amzn-ErrorType: "
                        "ResourceNotFoundException:http://internal.amazon.com/\r\n"
                        "x-amzn-RequestId: rid-1\r\n",
                        body, strlen(body), &e);
    ck_assert_str_eq(e.code, "ResourceNotFoundException");
    ck_assert_ptr_nonnull(strstr(e.message, "Function not found"));
    ck_assert_str_eq(e.request_id, "rid-1");
    /* API Gateway: code only in the header, message in the body */
    body = "{\"message\":\"Invalid Resource identifier specified\"}";
    dep_err_clear(&e);
    dep_parse_aws_error(DEP_PROTO_REST_JSON, 404, "x-amzn-ErrorType: NotFoundException\r\n", body,
                        strlen(body), &e);
    ck_assert_str_eq(e.code, "NotFoundException");
    ck_assert_str_eq(e.message, "Invalid Resource identifier specified");
    /* nothing usable: the status names it */
    dep_err_clear(&e);
    dep_parse_aws_error(DEP_PROTO_REST_JSON, 503, NULL, "", 0, &e);
    ck_assert_str_eq(e.code, "ServiceUnavailable");
    char line[2048];
    snprintf(e.service, sizeof(e.service), "lambda");
    snprintf(e.operation, sizeof(e.operation), "UpdateAlias");
    dep_err_str(&e, line, sizeof(line));
    ck_assert_ptr_nonnull(strstr(line, "lambda UpdateAlias"));
    ck_assert_ptr_nonnull(strstr(line, "503 ServiceUnavailable"));
}
END_TEST

START_TEST(xml_to_json)
{
    const char *x =
        "<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>s</StackName>"
        "<StackStatus>CREATE_COMPLETE</StackStatus><Outputs><member><OutputKey>A</OutputKey>"
        "<OutputValue>1</OutputValue></member><member><OutputKey>B</OutputKey><OutputValue>2</"
        "OutputValue>"
        "</member></Outputs></member></Stacks></DescribeStacksResult></DescribeStacksResponse>";
    cJSON *j = dep_xml_to_json(x, strlen(x));
    ck_assert_ptr_nonnull(j);
    const cJSON *r = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "DescribeStacksResponse"),
                                         "DescribeStacksResult");
    const cJSON *stacks = cJSON_GetObjectItem(r, "Stacks");
    ck_assert(cJSON_IsArray(stacks));
    const cJSON *outs = cJSON_GetObjectItem(cJSON_GetArrayItem(stacks, 0), "Outputs");
    ck_assert_int_eq(cJSON_GetArraySize(outs), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(outs, 1), "OutputKey")->valuestring,
                     "B");
    cJSON_Delete(j);
    /* repeated siblings (S3 flattened lists) become arrays, single ones stay */
    x = "<NotificationConfiguration><LambdaFunctionConfiguration><CloudFunction>a</"
        "CloudFunction><Event>e1</Event>"
        "<Event>e2</Event></LambdaFunctionConfiguration></NotificationConfiguration>";
    j = dep_xml_to_json(x, strlen(x));
    const cJSON *l = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "NotificationConfiguration"),
                                         "LambdaFunctionConfiguration");
    ck_assert(cJSON_IsObject(l));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "Event")), 2);
    cJSON_Delete(j);
    ck_assert_ptr_null(dep_xml_to_json("<a><b></a>", 10));
}
END_TEST

START_TEST(urlencode)
{
    char *s = dep_urlencode("a b/$LATEST:x~", 0);
    ck_assert_str_eq(s, "a%20b%2F%24LATEST%3Ax~");
    free(s);
    s = dep_urlencode("dir/file name.json", 1);
    ck_assert_str_eq(s, "dir/file%20name.json");
    free(s);
}
END_TEST

START_TEST(credentials_chain)
{
    struct dep_err e;
    char b[256];
    char dir[] = "/tmp/dep-cred-XXXXXX";
    char path[300];

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/credentials", dir);
    FILE *f = fopen(path, "w");
    fputs("[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n"
          "[ci-prod]\naws_access_key_id=PROFKEY\naws_secret_access_key=profsecret\naws_session_"
          "token=tok\n",
          f);
    fclose(f);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_ENDPOINT_URL");
    setenv("AWS_ACCESS_KEY_ID", "A1", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "S1", 1);
    setenv("SERVERLESS_ADMIN_AWS_ACCESS_KEY_ID", "A2", 1);
    setenv("SERVERLESS_ADMIN_AWS_SECRET_ACCESS_KEY", "S2", 1);
    ck_assert_int_eq(dep_transport_init(NULL, "dev", &e), 0);
    ck_assert_str_eq(dep_transport_creds()->access_key, "A2");
    setenv("AWS_DEV_ACCESS_KEY_ID", "A3", 1);
    setenv("AWS_DEV_SECRET_ACCESS_KEY", "S3", 1);
    ck_assert_int_eq(dep_transport_set_stage("dev", &e), 0);
    ck_assert_str_eq(dep_transport_creds()->access_key, "A3");
    /* another stage does not see AWS_DEV_ */
    ck_assert_int_eq(dep_transport_set_stage("prod", &e), 0);
    ck_assert_str_eq(dep_transport_creds()->access_key, "A2");
    /* a stage profile overrides the environment */
    setenv("AWS_PROD_PROFILE", "ci-prod", 1);
    ck_assert_int_eq(dep_transport_set_stage("prod", &e), 0);
    ck_assert_str_eq(dep_transport_creds()->access_key, "PROFKEY");
    ck_assert_str_eq(dep_transport_creds()->session_token, "tok");
    /* nothing at all against real AWS: an error */
    unsetenv("AWS_PROD_PROFILE");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("SERVERLESS_ADMIN_AWS_ACCESS_KEY_ID");
    unsetenv("AWS_DEV_ACCESS_KEY_ID");
    ck_assert_int_eq(dep_transport_init(NULL, "prod", &e), -1);
    ck_assert_str_eq(e.code, "NoCredentials");
    ck_assert_int_eq(dep_err_exit(&e), DEP_EXIT_TRANSPORT);
    /* endpoints */
    ck_assert_int_eq(dep_transport_init("http://127.0.0.1:4566/", "prod", &e), 0);
    ck_assert_str_eq(dep_endpoint("lambda", "eu-west-1", b, sizeof(b)), "http://127.0.0.1:4566");
    ck_assert_str_eq(dep_transport_creds()->access_key, "test");
    setenv("AWS_ENDPOINT_URL_S3", "http://s3.local:9000", 1);
    setenv("AWS_ACCESS_KEY_ID", "A1", 1);
    ck_assert_int_eq(dep_transport_init(NULL, NULL, &e), 0);
    ck_assert_str_eq(dep_endpoint("s3", "us-east-1", b, sizeof(b)), "http://s3.local:9000");
    ck_assert_str_eq(dep_endpoint("lambda", "eu-west-1", b, sizeof(b)),
                     "https://lambda.eu-west-1.amazonaws.com");
    /* --endpoint-url beats the per-service variable */
    ck_assert_int_eq(dep_transport_init("http://127.0.0.1:1", NULL, &e), 0);
    ck_assert_str_eq(dep_endpoint("s3", "us-east-1", b, sizeof(b)), "http://127.0.0.1:1");
    unsetenv("AWS_ENDPOINT_URL_S3");
    unlink(path);
    rmdir(dir);
}
END_TEST

/* ------------------------------------------------- scripted HTTP server */

struct script {
    int fd;
    int port;
    const char *const *answers; /* full HTTP responses, one per request */
    int n;
    int served;
    char last_request[8192];
};

static void *serve(void *arg)
{
    struct script *s = arg;

    while (s->served < s->n) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) {
            break;
        }
        /* keep-alive: several requests per connection */
        while (s->served < s->n) {
            char buf[8192] = "";
            size_t len = 0;
            char *end = NULL;
            while (!(end = strstr(buf, "\r\n\r\n"))) {
                ssize_t r = read(c, buf + len, sizeof(buf) - 1 - len);
                if (r <= 0) {
                    goto next;
                }
                len += (size_t)r;
                buf[len] = 0;
            }
            size_t need = 0;
            char *cl = strcasestr(buf, "content-length:");
            if (cl) {
                need = (size_t)strtol(cl + 15, NULL, 10);
            }
            while (len - (size_t)(end + 4 - buf) < need) {
                ssize_t r = read(c, buf + len, sizeof(buf) - 1 - len);
                if (r <= 0) {
                    goto next;
                }
                len += (size_t)r;
                buf[len] = 0;
            }
            snprintf(s->last_request, sizeof(s->last_request), "%s", buf);
            const char *a = s->answers[s->served++];
            if (write(c, a, strlen(a)) < 0) {
                goto next;
            }
            memset(buf, 0, sizeof(buf));
            len = 0;
        }
    next:
        close(c);
    }
    return NULL;
}

static void script_start(struct script *s, pthread_t *th)
{
    struct sockaddr_in a = {0};
    socklen_t al = sizeof(a);
    int one = 1;

    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(s->fd, 8), 0);
    getsockname(s->fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    pthread_create(th, NULL, serve, s);
}

static void script_stop(struct script *s, pthread_t th)
{
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(th, NULL);
}

#define R503 "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
#define R429                                                                                       \
    "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nx-amzn-ErrorType: "                       \
    "TooManyRequestsException\r\nContent-Length: 2\r\n\r\n{}"
#define RTHR                                                                                       \
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\nContent-Length: "                       \
    "101\r\n\r\n<ErrorResponse><Error><Code>Throttling</Code><Message>Rate "                       \
    "exceeded</Message></Error></ErrorResponse>"
#define R200                                                                                       \
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: \"e1\"\r\nContent-Length: "        \
    "11\r\n\r\n{\"ok\":true}"
#define R409                                                                                       \
    "HTTP/1.1 409 Conflict\r\nx-amzn-ErrorType: ResourceConflictException\r\nContent-Length: "     \
    "20\r\n\r\n{\"message\":\"in use\"}"

static void fast_retries(void)
{
    setenv("STAGEHAND_RETRY_BASE_MS", "1", 1);
    setenv("STAGEHAND_RETRY_CAP_MS", "5", 1);
    setenv("STAGEHAND_MAX_ATTEMPTS", "4", 1);
    setenv("STAGEHAND_CALL_TIMEOUT", "5", 1);
    setenv("AWS_ACCESS_KEY_ID", "test", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "test", 1);
}

START_TEST(retry_then_success)
{
    const char *answers[] = {R503, R429, RTHR, R200};
    struct script s = {.answers = answers, .n = 4};
    pthread_t th;
    struct dep_err e;
    char url[64];
    cJSON *out = NULL;

    fast_retries();
    script_start(&s, &th);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
    ck_assert_int_eq(dep_transport_init(url, NULL, &e), 0);
    int rc = dep_rest_json("lambda", "us-east-1", "GetFunction", "f", "GET",
                           "/2015-03-31/functions/f", NULL, NULL, &out, &e);
    char line[2048];
    ck_assert_msg(rc == 0, "%s (served %d)", dep_err_str(&e, line, sizeof(line)), s.served);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(out, "ok")));
    ck_assert_int_eq(s.served, 4);
    /* SigV4 by libcurl */
    ck_assert_ptr_nonnull(strstr(s.last_request, "AWS4-HMAC-SHA256 Credential=test/"));
    ck_assert_ptr_nonnull(strstr(s.last_request, "/us-east-1/lambda/aws4_request"));
    cJSON_Delete(out);
    dep_transport_thread_cleanup();
    script_stop(&s, th);
}
END_TEST

START_TEST(retry_bounded)
{
    const char *answers[] = {R503, R503, R503, R503, R503};
    struct script s = {.answers = answers, .n = 5};
    pthread_t th;
    struct dep_err e;
    char url[64];

    fast_retries();
    script_start(&s, &th);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
    ck_assert_int_eq(dep_transport_init(url, NULL, &e), 0);
    ck_assert_int_eq(dep_rest_json("apigateway", "us-east-1", "GetRestApis", NULL, "GET",
                                   "/restapis", "limit=500", NULL, NULL, &e),
                     -1);
    ck_assert_int_eq(e.attempts, 4);
    ck_assert_int_eq(s.served, 4);
    ck_assert_str_eq(e.code, "ServiceUnavailable");
    ck_assert_str_eq(e.operation, "GetRestApis");
    dep_transport_thread_cleanup();
    /* let the server finish */
    s.n = 4;
    script_stop(&s, th);
}
END_TEST

START_TEST(no_retry_on_client_error)
{
    const char *answers[] = {R409, R200};
    struct script s = {.answers = answers, .n = 2};
    pthread_t th;
    struct dep_err e;
    char url[64];

    fast_retries();
    script_start(&s, &th);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
    ck_assert_int_eq(dep_transport_init(url, NULL, &e), 0);
    ck_assert_int_eq(dep_rest_json("lambda", "us-east-1", "UpdateAlias", "f:dev", "PUT",
                                   "/2015-03-31/functions/f/aliases/dev", NULL, NULL, NULL, &e),
                     -1);
    ck_assert_int_eq(e.attempts, 1);
    ck_assert_str_eq(e.code, "ResourceConflictException");
    ck_assert_str_eq(e.message, "in use");
    ck_assert_int_eq(dep_err_exit(&e), DEP_EXIT_FAIL);
    /* the next call reuses the connection and succeeds */
    ck_assert_int_eq(dep_rest_json("lambda", "us-east-1", "GetAlias", "f:dev", "GET",
                                   "/2015-03-31/functions/f/aliases/dev", NULL, NULL, NULL, &e),
                     0);
    dep_transport_thread_cleanup();
    script_stop(&s, th);
}
END_TEST

START_TEST(connection_refused)
{
    struct dep_err e;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t al = sizeof(a);
    char url[64];

    /* a port nobody listens on */
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd);
    fast_retries();
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
    ck_assert_int_eq(dep_transport_init(url, NULL, &e), 0);
    ck_assert_int_eq(dep_rest_json("lambda", "us-east-1", "GetFunction", "f", "GET",
                                   "/2015-03-31/functions/f", NULL, NULL, NULL, &e),
                     -1);
    ck_assert_int_eq(e.kind, DEP_ERR_TRANSPORT);
    ck_assert_int_eq(e.attempts, 4);
    ck_assert_int_eq(dep_err_exit(&e), DEP_EXIT_TRANSPORT);
    dep_transport_thread_cleanup();
}
END_TEST

START_TEST(s3_conditional_headers)
{
    const char *answers[] = {R200, R200};
    struct script s = {.answers = answers, .n = 2};
    pthread_t th;
    struct dep_err e;
    char url[64], etag[128];

    fast_retries();
    script_start(&s, &th);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
    ck_assert_int_eq(dep_transport_init(url, NULL, &e), 0);
    ck_assert_int_eq(dep_s3_put_object("us-east-1", "meta", "a/b c.json", "{}", 2,
                                       "application/json", NULL, "*", etag, &e),
                     0);
    ck_assert_ptr_nonnull(strstr(s.last_request, "PUT /meta/a/b%20c.json HTTP/1.1"));
    ck_assert_ptr_nonnull(strstr(s.last_request, "If-None-Match: *"));
    ck_assert_ptr_nonnull(strstr(s.last_request, "x-amz-content-sha256"));
    ck_assert_str_eq(etag, "\"e1\"");
    ck_assert_int_eq(
        dep_s3_put_object("us-east-1", "meta", "k", "{}", 2, NULL, "\"e1\"", NULL, NULL, &e), 0);
    ck_assert_ptr_nonnull(strstr(s.last_request, "If-Match: \"e1\""));
    dep_transport_thread_cleanup();
    script_stop(&s, th);
}
END_TEST

#define PAGE1                                                                                      \
    "HTTP/1.1 200 OK\r\nContent-Length: 38\r\n\r\n{\"item\":[{\"id\":\"a\"}],\"position\":\"p "    \
    "2\"}"
#define PAGE2 "HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n{\"item\":[{\"id\":\"b\"}]}"

START_TEST(apigateway_pages)
{
    const char *answers[] = {PAGE1, PAGE2};
    struct script s = {.answers = answers, .n = 2};
    pthread_t th;
    struct dep_err e;
    char url[64];
    cJSON *out = NULL;

    fast_retries();
    script_start(&s, &th);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
    ck_assert_int_eq(dep_transport_init(url, NULL, &e), 0);
    ck_assert_int_eq(dep_apigw_get_rest_apis("us-east-1", &out, &e), 0);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(out, "item")), 2);
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "item"), 1), "id")
            ->valuestring,
        "b");
    ck_assert_ptr_nonnull(
        strstr(s.last_request, "GET /restapis?limit=500&position=p%202 HTTP/1.1"));
    cJSON_Delete(out);
    dep_transport_thread_cleanup();
    script_stop(&s, th);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dep_transport");
    struct {
        const char *name;
        const TTest *t;
    } tests[] = {
        {"error_rest_xml", error_rest_xml},
        {"error_query", error_query},
        {"error_json", error_json},
        {"error_rest_json", error_rest_json},
        {"xml_to_json", xml_to_json},
        {"urlencode", urlencode},
        {"credentials_chain", credentials_chain},
        {"retry_then_success", retry_then_success},
        {"retry_bounded", retry_bounded},
        {"no_retry_on_client_error", no_retry_on_client_error},
        {"connection_refused", connection_refused},
        {"s3_conditional_headers", s3_conditional_headers},
        {"apigateway_pages", apigateway_pages},
    };
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        TCase *tc = tcase_create(tests[i].name);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, tests[i].t);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
