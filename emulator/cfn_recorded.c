/*
 * cfn_recorded.c - CloudFormation resource types that greenroom RECORDS
 * rather than emulates: the resource lives only in CloudFormation's own
 * table (cfn_local) with the physical id and every Fn::GetAtt attribute the
 * AWS resource reference documents (ARNs in AWS's formats, names generated
 * the way CloudFormation generates them), its required properties checked
 * like AWS checks them. No service behind them answers API calls.
 *
 * Types: AWS::Kinesis::Stream, AWS::KinesisFirehose::DeliveryStream,
 * AWS::CloudWatch::Alarm, Dashboard, AWS::Cognito::UserPool, UserPoolClient,
 * UserPoolDomain, UserPoolGroup, IdentityPool, IdentityPoolRoleAttachment,
 * AWS::KMS::Key, Alias, AWS::EC2::SecurityGroup, SecurityGroupIngress,
 * SecurityGroupEgress, AWS::Logs::SubscriptionFilter, MetricFilter,
 * LogStream, AWS::SSM::Parameter, AWS::DynamoDB::GlobalTable,
 * AWS::CloudFront::Distribution, CloudFrontOriginAccessIdentity,
 * AWS::Route53::RecordSet, RecordSetGroup, HostedZone,
 * AWS::CertificateManager::Certificate, AWS::StepFunctions::StateMachine,
 * Activity, AWS::Elasticsearch::Domain, AWS::OpenSearchService::Domain,
 * AWS::ApplicationAutoScaling::ScalableTarget, ScalingPolicy,
 * AWS::SecretsManager::Secret, AWS::ECR::Repository, AWS::RDS::DBInstance,
 * DBCluster, DBSubnetGroup, AWS::ElastiCache::CacheCluster, SubnetGroup,
 * AWS::EC2::VPC, Subnet, InternetGateway, VPCGatewayAttachment, RouteTable,
 * Route, SubnetRouteTableAssociation, EIP, NatGateway,
 * AWS::Events::EventBus, AWS::ApiGateway::DomainName, BasePathMapping,
 * Account, AWS::SDB::Domain, AWS::Lambda::LayerVersion,
 * LayerVersionPermission, and the types of
 * served services whose operations greenroom lacks: AWS::IAM::AccessKey,
 * InstanceProfile, UserToGroupAddition, AWS::ApiGateway::GatewayResponse,
 * RequestValidator, AWS::Lambda::Url.
 *
 * Also: which resource types AWS would not recognise at all
 * (cfn_types_unrecognized).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cfn_resources.h"
#include "cfn_template.h"
#include "emu.h"

/* How a resource without its naming property is named. */
enum rec_naming {
    NAME_STACK,   /* stack-logical-RANDOM13 (cfn_physical_name) */
    NAME_CFN,     /* CFN-logical-RANDOM12 (SSM parameters) */
    NAME_LOGICAL, /* logical-RANDOM12 (Step Functions) */
    NAME_WORD,    /* logical_RANDOM12, word characters only (Cognito identity pools) */
};

/* One recorded type. base.type etc. are what cfn_rtype_find answers.
 * ref and attrs are templates (see rec_expand); attrs is a ';' list of
 * "Name=template", "Name?Prop=template" (only when property Prop is set) or
 * "Name=[t1,t2]" (a list). */
struct rec_type {
    struct cfn_rtype base;
    enum rec_naming naming;
    size_t name_max;
    int name_lower;
    const char *ref;
    const char *attrs;
    const char *required; /* comma list of required properties */
    int unique;           /* a second resource with the same Ref is refused */
    int (*check)(struct cfn_res *r);
    const char *label_prop; /* a naming property that is not an identity (names may repeat,
                             * so no custom-name rule on replacement), else NULL */
};

/* ------------------------------------------------------------- helpers */

static void rec_err(struct cfn_res *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rec_err(struct cfn_res *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
}

static const char *rec_pstr(const cJSON *props, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *rec_partition(const char *region)
{
    if (strncmp(region, "cn-", 3) == 0) {
        return "aws-cn";
    }
    if (strncmp(region, "us-gov-", 7) == 0) {
        return "aws-us-gov";
    }
    return "aws";
}

/* n characters from alphabet, derived from seed and index (stable: the
 * same seed gives the same characters, so attributes survive updates). */
static void rec_chars(const char *seed, unsigned idx, const char *alphabet, size_t n,
                      struct emu_buf *out)
{
    size_t alen = strlen(alphabet), done = 0;
    unsigned block = 0;
    while (done < n) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0, i;
        char in[1400];
        int len = snprintf(in, sizeof(in), "%s:%u:%u", seed, idx, block++);
        if (len < 0 || (size_t)len >= sizeof(in)) {
            len = (int)sizeof(in) - 1;
        }
        if (EVP_Digest(in, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1) {
            mdlen = 0;
        }
        for (i = 0; i < mdlen && done < n; i++, done++) {
            char c = alphabet[md[i] % alen];
            emu_buf_append(out, &c, 1);
        }
        if (mdlen == 0) {
            break;
        }
    }
}

/* A property as text (objects and arrays as JSON); caller frees; NULL when
 * absent. */
static char *rec_prop(const cJSON *props, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, name);
    if (v == NULL || cJSON_IsNull(v)) {
        return NULL;
    }
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        return cJSON_PrintUnformatted(v);
    }
    return cfn_value_str(v);
}

struct rec_ctx {
    struct cfn_res *r;
    const char *name; /* the resource's name (generated or given) */
    const char *ref;  /* the physical id, NULL while computing it */
    const char *seed;
    unsigned idx;
};

/* The function ARN of a Lambda::Url's target, with its qualifier. */
static void rec_lambda_arn(struct rec_ctx *c, struct emu_buf *out)
{
    const char *t = rec_pstr(c->r->props, "TargetFunctionArn");
    const char *q = rec_pstr(c->r->props, "Qualifier");
    if (t == NULL) {
        t = "";
    }
    if (strncmp(t, "arn:", 4) == 0) {
        emu_buf_puts(out, t);
    } else {
        emu_buf_printf(out, "arn:%s:lambda:%s:%s:function:%s", rec_partition(c->r->region),
                       c->r->region, c->r->account, t);
    }
    if (q != NULL && q[0] != 0) {
        emu_buf_printf(out, ":%s", q);
    }
}

/* The next version number of layer name: one past the highest recorded
 * (versions are never reused while any is recorded). */
static long rec_layer_version(struct cfn_res *r, const char *name)
{
    sqlite3_stmt *st;
    char prefix[700];
    long max = 0;
    int n =
        snprintf(prefix, sizeof(prefix), "arn:%s:lambda:%s:%s:layer:%s:", rec_partition(r->region),
                 r->region, r->account, name ? name : "");
    if (n < 0 || (size_t)n >= sizeof(prefix) || emu_store_begin(0) != 0) {
        return 1;
    }
    st = emu_stmt("SELECT physical_id FROM cfn_local WHERE account = ?1 AND region = ?2 AND "
                  "type = 'AWS::Lambda::LayerVersion' AND substr(physical_id, 1, ?3) = ?4");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, r->account, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, r->region, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, n);
        sqlite3_bind_text(st, 4, prefix, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *id = (const char *)sqlite3_column_text(st, 0);
            long v = id && strlen(id) > (size_t)n ? strtol(id + n, NULL, 10) : 0;
            if (v > max) {
                max = v;
            }
        }
        emu_stmt_done(st);
    }
    emu_store_end(1);
    return max + 1;
}

/* A database's port: the Port property, else the engine's default.
 * Returns a static or property-owned string. */
static const char *rec_db_port(const cJSON *props)
{
    static __thread char port[32];
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(props, "Port");
    const char *engine = rec_pstr(props, "Engine");
    if (cJSON_IsString(p)) {
        return p->valuestring;
    }
    if (cJSON_IsNumber(p)) {
        snprintf(port, sizeof(port), "%d", p->valueint);
        return port;
    }
    if (engine == NULL) {
        return "3306";
    }
    if (strstr(engine, "postgres") != NULL) {
        return "5432";
    }
    if (strncmp(engine, "oracle", 6) == 0) {
        return "1521";
    }
    if (strncmp(engine, "sqlserver", 9) == 0) {
        return "1433";
    }
    if (strcmp(engine, "redis") == 0) {
        return "6379";
    }
    if (strcmp(engine, "memcached") == 0) {
        return "11211";
    }
    return "3306";
}

/* The '}' closing a "${" whose body starts at p (nested ${...} skipped),
 * or NULL. */
static const char *rec_close(const char *p, const char *end)
{
    int depth = 0;
    for (; p < end; p++) {
        if (p[0] == '$' && p + 1 < end && p[1] == '{') {
            depth++;
            p++;
        } else if (p[0] == '}') {
            if (depth == 0) {
                return p;
            }
            depth--;
        }
    }
    return NULL;
}

/* Expands a template: ${Name} ${Ref} ${Region} ${AccountId} ${Partition}
 * ${StackName} ${LogicalId} ${Time} ${Uuid} ${LambdaArn}, ${P:Prop} or
 * ${P:Prop|default} (a property), and stable random runs ${hex:N}
 * ${lower:N} ${UPPER:N} ${alnum:N} ${digits:N}. Returns a new string
 * (caller frees). */
static char *rec_expand(struct rec_ctx *c, const char *tmpl, size_t tlen)
{
    struct emu_buf b = {0};
    const char *p = tmpl, *end = tmpl + tlen;
    while (p < end) {
        const char *close;
        char key[128];
        size_t klen;
        if (!(p[0] == '$' && p + 1 < end && p[1] == '{')) {
            emu_buf_append(&b, p, 1);
            p++;
            continue;
        }
        close = rec_close(p + 2, end);
        if (close == NULL) {
            emu_buf_append(&b, p, (size_t)(end - p));
            break;
        }
        klen = (size_t)(close - p - 2);
        if (klen >= sizeof(key)) {
            klen = sizeof(key) - 1;
        }
        memcpy(key, p + 2, klen);
        key[klen] = 0;
        p = close + 1;
        if (strcmp(key, "Name") == 0) {
            emu_buf_puts(&b, c->name ? c->name : "");
        } else if (strcmp(key, "Ref") == 0) {
            emu_buf_puts(&b, c->ref ? c->ref : "");
        } else if (strcmp(key, "Region") == 0) {
            emu_buf_puts(&b, c->r->region);
        } else if (strcmp(key, "AccountId") == 0) {
            emu_buf_puts(&b, c->r->account);
        } else if (strcmp(key, "Partition") == 0) {
            emu_buf_puts(&b, rec_partition(c->r->region));
        } else if (strcmp(key, "StackName") == 0) {
            emu_buf_puts(&b, c->r->stack_name);
        } else if (strcmp(key, "LogicalId") == 0) {
            emu_buf_puts(&b, c->r->logical_id);
        } else if (strcmp(key, "DbPort") == 0) {
            emu_buf_puts(&b, rec_db_port(c->r->props));
        } else if (strcmp(key, "Octet") == 0) {
            struct emu_buf h = {0};
            rec_chars(c->seed, c->idx++, "0123456789", 3, &h);
            emu_buf_printf(&b, "%ld", strtol(h.data ? h.data : "0", NULL, 10) % 254 + 1);
            emu_buf_release(&h);
        } else if (strcmp(key, "LayerVersion") == 0) {
            emu_buf_printf(&b, "%ld", rec_layer_version(c->r, c->name));
        } else if (strcmp(key, "LambdaArn") == 0) {
            rec_lambda_arn(c, &b);
        } else if (strcmp(key, "Time") == 0) {
            char ts[32];
            emu_time_iso(ts, emu_now());
            ts[23] = 0; /* drop the Z */
            emu_buf_puts(&b, ts);
        } else if (strcmp(key, "Uuid") == 0) {
            struct emu_buf h = {0};
            rec_chars(c->seed, c->idx++, "0123456789abcdef", 32, &h);
            emu_buf_printf(&b, "%.8s-%.4s-4%.3s-a%.3s-%.12s", h.data, h.data + 8, h.data + 13,
                           h.data + 17, h.data + 20);
            emu_buf_release(&h);
        } else if (strncmp(key, "P:", 2) == 0) {
            char *bar = strchr(key, '|');
            char *v;
            if (bar != NULL) {
                *bar = 0;
            }
            v = rec_prop(c->r->props, key + 2);
            if (v != NULL) {
                emu_buf_puts(&b, v);
                free(v);
            } else if (bar != NULL) {
                struct rec_ctx sub = *c;
                char *d = rec_expand(&sub, bar + 1, strlen(bar + 1));
                c->idx = sub.idx;
                emu_buf_puts(&b, d);
                free(d);
            }
        } else {
            static const struct {
                const char *name;
                const char *alphabet;
            } runs[] = {
                {"hex", "0123456789abcdef"},
                {"lower", "abcdefghijklmnopqrstuvwxyz0123456789"},
                {"UPPER", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"},
                {"alnum", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"},
                {"digits", "0123456789"},
            };
            char *colon = strchr(key, ':');
            size_t i;
            if (colon == NULL) {
                continue;
            }
            *colon = 0;
            for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
                if (strcmp(key, runs[i].name) == 0) {
                    char *e = NULL;
                    long n = strtol(colon + 1, &e, 10);
                    if (e != colon + 1 && n > 0 && n <= 128) {
                        rec_chars(c->seed, c->idx++, runs[i].alphabet, (size_t)n, &b);
                    }
                }
            }
        }
    }
    if (b.data == NULL) {
        return strdup("");
    }
    return emu_buf_take(&b);
}

/* Sets one attribute (a string, or a list for "[a,b]") from its template. */
static void rec_attr_set(struct rec_ctx *c, cJSON *attrs, const char *name, const char *tmpl,
                         size_t tlen)
{
    cJSON_DeleteItemFromObjectCaseSensitive(attrs, name);
    if (tlen >= 2 && tmpl[0] == '[' && tmpl[tlen - 1] == ']') {
        cJSON *arr = cJSON_AddArrayToObject(attrs, name);
        const char *p = tmpl + 1, *end = tmpl + tlen - 1;
        while (p < end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *e = comma ? comma : end;
            char *v = rec_expand(c, p, (size_t)(e - p));
            cJSON_AddItemToArray(arr, cJSON_CreateString(v));
            free(v);
            p = e + 1;
        }
        return;
    }
    {
        char *v = rec_expand(c, tmpl, tlen);
        cJSON_AddStringToObject(attrs, name, v);
        free(v);
    }
}

/* Computes the attributes into r->attrs. update: only the attributes that
 * depend on properties are recomputed, the others are kept. */
static void rec_attrs(const struct rec_type *t, struct rec_ctx *c, int update)
{
    const char *p = t->attrs;
    struct cfn_res *r = c->r;
    if (r->attrs == NULL) {
        r->attrs =
            (update && r->old_attrs) ? cJSON_Duplicate(r->old_attrs, 1) : cJSON_CreateObject();
    }
    while (p != NULL && *p) {
        const char *semi = strchr(p, ';');
        const char *e = semi ? semi : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(e - p));
        char name[96], cond[96];
        const char *q;
        size_t nlen;
        if (eq == NULL) {
            break;
        }
        nlen = (size_t)(eq - p);
        if (nlen >= sizeof(name)) {
            nlen = sizeof(name) - 1;
        }
        memcpy(name, p, nlen);
        name[nlen] = 0;
        cond[0] = 0;
        q = strchr(name, '?');
        if (q != NULL) {
            snprintf(cond, sizeof(cond), "%s", q + 1);
            name[q - name] = 0;
        }
        if (cond[0] != 0 && cJSON_GetObjectItemCaseSensitive(r->props, cond) == NULL) {
            cJSON_DeleteItemFromObjectCaseSensitive(r->attrs, name);
        } else {
            size_t tlen = (size_t)(e - eq - 1);
            int dep = memmem(eq + 1, tlen, "${P:", 4) != NULL ||
                      memmem(eq + 1, tlen, "${DbPort}", 9) != NULL;
            if (!update || dep || !cJSON_HasObjectItem(r->attrs, name)) {
                rec_attr_set(c, r->attrs, name, eq + 1, tlen);
            }
        }
        p = semi ? semi + 1 : NULL;
    }
}

static const struct rec_type *rec_find(const char *type);

/* The required properties: 0, or -1 with AWS's validation message. */
static int rec_required(const struct rec_type *t, struct cfn_res *r)
{
    const char *p = t->required;
    while (p != NULL && *p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char name[96];
        const cJSON *v;
        if (n >= sizeof(name)) {
            n = sizeof(name) - 1;
        }
        memcpy(name, p, n);
        name[n] = 0;
        v = cJSON_GetObjectItemCaseSensitive(r->props, name);
        if (v == NULL || cJSON_IsNull(v)) {
            rec_err(r,
                    "Properties validation failed for resource %s with message: #: required key "
                    "[%s] not found",
                    r->logical_id, name);
            return -1;
        }
        p = comma ? comma + 1 : NULL;
    }
    return t->check ? t->check(r) : 0;
}

/* The generated name when the naming property is absent. */
static void rec_gen_name(const struct rec_type *t, struct cfn_res *r, char *out, size_t outlen)
{
    char rnd[16];
    size_t max = t->name_max ? t->name_max : 255;
    const char *np = t->base.name_prop ? t->base.name_prop : t->label_prop;
    const char *given = np ? rec_pstr(r->props, np) : NULL;
    if (given != NULL && given[0] != 0) {
        snprintf(out, outlen, "%s", given);
        return;
    }
    if (t->naming == NAME_STACK) {
        cfn_physical_name(r->stack_name, r->logical_id, max, t->name_lower, out, outlen);
        return;
    }
    emu_random_alnum(rnd, 12, 0);
    rnd[12] = 0;
    if (t->naming == NAME_CFN) {
        snprintf(out, outlen, "CFN-%.*s-%s", (int)(max > 18 ? max - 18 : 0), r->logical_id, rnd);
    } else if (t->naming == NAME_LOGICAL) {
        snprintf(out, outlen, "%.*s-%s", (int)(max > 13 ? max - 13 : 0), r->logical_id, rnd);
    } else {
        size_t i, j = 0;
        char lg[256];
        for (i = 0; r->logical_id[i] && j + 1 < sizeof(lg); i++) {
            char ch = r->logical_id[i];
            if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '_') {
                lg[j++] = ch;
            }
        }
        lg[j] = 0;
        snprintf(out, outlen, "%.*s_%s", (int)(max > 13 ? max - 13 : 0), lg, rnd);
    }
}

/* Whether CloudFormation's table already records type/physical_id. */
static int rec_exists(struct cfn_res *r)
{
    sqlite3_stmt *st;
    int found = 0;
    if (emu_store_begin(0) != 0) {
        return 0;
    }
    st = emu_stmt("SELECT 1 FROM cfn_local WHERE account = ?1 AND region = ?2 AND type = ?3 AND "
                  "physical_id = ?4");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, r->account, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, r->region, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, r->type, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, r->physical_id, -1, SQLITE_TRANSIENT);
        found = sqlite3_step(st) == SQLITE_ROW;
        emu_stmt_done(st);
    }
    emu_store_end(1);
    return found;
}

static int rec_create(struct cfn_res *r)
{
    const struct rec_type *t = rec_find(r->type);
    char name[512], nonce[24];
    struct rec_ctx c;
    char *ref;
    if (t == NULL) {
        rec_err(r, "Unsupported resource type %s", r->type);
        return -1;
    }
    if (rec_required(t, r) < 0) {
        return -1;
    }
    rec_gen_name(t, r, name, sizeof(name));
    emu_random_alnum(nonce, 20, 0);
    nonce[20] = 0;
    memset(&c, 0, sizeof(c));
    c.r = r;
    c.name = name;
    c.seed = nonce;
    ref = rec_expand(&c, t->ref, strlen(t->ref));
    snprintf(r->physical_id, sizeof(r->physical_id), "%s", ref);
    free(ref);
    if (t->unique && rec_exists(r)) {
        rec_err(r, "Resource of type '%s' with identifier '%s' already exists.", r->type,
                r->physical_id);
        r->physical_id[0] = 0; /* not ours: the rollback must not delete it */
        return -1;
    }
    memset(&c, 0, sizeof(c));
    c.r = r;
    c.name = name;
    c.ref = r->physical_id;
    c.seed = r->physical_id;
    rec_attrs(t, &c, 0);
    return cfn_local_put(r, r->props);
}

static int rec_update(struct cfn_res *r)
{
    const struct rec_type *t = rec_find(r->type);
    struct rec_ctx c;
    char name[512];
    const char *given;
    if (t == NULL) {
        rec_err(r, "Unsupported resource type %s", r->type);
        return -1;
    }
    if (rec_required(t, r) < 0) {
        return -1;
    }
    given = t->base.name_prop ? rec_pstr(r->props, t->base.name_prop)
            : t->label_prop   ? rec_pstr(r->props, t->label_prop)
                              : NULL;
    if (given == NULL && strcmp(t->ref, "${Name}") != 0) {
        /* a generated name that is not the Ref: the one recorded */
        given = rec_pstr(r->old_attrs, "Name");
    }
    snprintf(name, sizeof(name), "%s", given ? given : r->physical_id);
    memset(&c, 0, sizeof(c));
    c.r = r;
    c.name = name;
    c.ref = r->physical_id;
    c.seed = r->physical_id;
    rec_attrs(t, &c, 1);
    return cfn_local_put(r, r->props);
}

static int rec_delete(struct cfn_res *r)
{
    return cfn_local_put(r, NULL);
}

/* ------------------------------------------------ per-type value checks */

static int check_kms_alias(struct cfn_res *r)
{
    const char *a = rec_pstr(r->props, "AliasName");
    if (a == NULL || strncmp(a, "alias/", 6) != 0 || strncmp(a, "alias/aws/", 10) == 0) {
        rec_err(r,
                "Properties validation failed for resource %s with message: #/AliasName: failed "
                "validation constraint for keyword [pattern]",
                r->logical_id);
        return -1;
    }
    return 0;
}

static int check_ssm_type(struct cfn_res *r)
{
    const char *ty = rec_pstr(r->props, "Type");
    if (ty == NULL || (strcmp(ty, "String") != 0 && strcmp(ty, "StringList") != 0)) {
        rec_err(r,
                "Properties validation failed for resource %s with message: #/Type: %s is not a "
                "valid enum value",
                r->logical_id, ty ? ty : "");
        return -1;
    }
    return 0;
}

static int check_record_zone(struct cfn_res *r)
{
    if (rec_pstr(r->props, "HostedZoneId") == NULL &&
        rec_pstr(r->props, "HostedZoneName") == NULL) {
        rec_err(r, "Exactly one of [HostedZoneId, HostedZoneName] must be specified");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- table */

#define REC(type, replace, name_prop, iam)                                                         \
    {                                                                                              \
        type, NULL, rec_create, rec_update, rec_delete, replace, name_prop, iam                    \
    }

static const struct rec_type rec_types[] = {
    /* Kinesis, Firehose */
    {REC("AWS::Kinesis::Stream", "Name", "Name", 0), NAME_STACK, 128, 0, "${Name}",
     "Arn=arn:${Partition}:kinesis:${Region}:${AccountId}:stream/${Name}", "", 1, NULL, NULL},
    {REC("AWS::KinesisFirehose::DeliveryStream",
         "DeliveryStreamName,DeliveryStreamType,KinesisStreamSourceConfiguration,"
         "ElasticsearchDestinationConfiguration,AmazonopensearchserviceDestinationConfiguration",
         "DeliveryStreamName", 0),
     NAME_STACK, 64, 0, "${Name}",
     "Arn=arn:${Partition}:firehose:${Region}:${AccountId}:deliverystream/${Name}", "", 1, NULL,
     NULL},
    /* CloudWatch */
    {REC("AWS::CloudWatch::Alarm", "AlarmName", "AlarmName", 0), NAME_STACK, 255, 0, "${Name}",
     "Arn=arn:${Partition}:cloudwatch:${Region}:${AccountId}:alarm:${Name}",
     "ComparisonOperator,EvaluationPeriods", 1, NULL, NULL},
    {REC("AWS::CloudWatch::Dashboard", "DashboardName", "DashboardName", 0), NAME_STACK, 255, 0,
     "${Name}", "", "DashboardBody", 1, NULL, NULL},
    /* Cognito */
    {REC("AWS::Cognito::UserPool", "AliasAttributes,UsernameAttributes", NULL, 0), NAME_STACK, 128,
     0, "${Region}_${alnum:9}",
     "Arn=arn:${Partition}:cognito-idp:${Region}:${AccountId}:userpool/${Ref};"
     "ProviderName=cognito-idp.${Region}.amazonaws.com/${Ref};"
     "ProviderURL=https://cognito-idp.${Region}.amazonaws.com/${Ref};UserPoolId=${Ref}",
     "", 0, NULL, "UserPoolName"},
    {REC("AWS::Cognito::UserPoolClient", "UserPoolId,GenerateSecret", NULL, 0), NAME_STACK, 128, 0,
     "${lower:26}",
     "ClientId=${Ref};ClientSecret?GenerateSecret=${lower:51};Name=${P:ClientName|${Ref}}",
     "UserPoolId", 0, NULL, "ClientName"},
    {REC("AWS::Cognito::UserPoolDomain", "Domain,UserPoolId", "Domain", 0), NAME_STACK, 63, 1,
     "${P:Domain}", "CloudFrontDistribution=d${lower:13}.cloudfront.net", "Domain,UserPoolId", 1,
     NULL, NULL},
    {REC("AWS::Cognito::UserPoolGroup", "GroupName,UserPoolId", "GroupName", 0), NAME_STACK, 128, 0,
     "${Name}", "", "UserPoolId", 0, NULL, NULL},
    {REC("AWS::Cognito::IdentityPool", "", NULL, 0), NAME_WORD, 128, 0, "${Region}:${Uuid}",
     "Id=${Ref};Name=${P:IdentityPoolName|${Name}}", "AllowUnauthenticatedIdentities", 0, NULL,
     "IdentityPoolName"},
    {REC("AWS::Cognito::IdentityPoolRoleAttachment", "IdentityPoolId", NULL, 0), NAME_STACK, 128, 0,
     "${LogicalId}-${alnum:13}", "Id=${Ref}", "IdentityPoolId", 0, NULL, NULL},
    /* KMS */
    {REC("AWS::KMS::Key", "KeySpec,KeyUsage,MultiRegion", NULL, 0), NAME_STACK, 0, 0, "${Uuid}",
     "Arn=arn:${Partition}:kms:${Region}:${AccountId}:key/${Ref};KeyId=${Ref}", "", 0, NULL, NULL},
    {REC("AWS::KMS::Alias", "AliasName", "AliasName", 0), NAME_STACK, 256, 0, "${Name}", "",
     "AliasName,TargetKeyId", 1, check_kms_alias, NULL},
    /* EC2 security groups */
    {REC("AWS::EC2::SecurityGroup", "GroupName,GroupDescription,VpcId", "GroupName", 0), NAME_STACK,
     255, 0, "sg-${hex:17}", "GroupId=${Ref};Id=${Ref};VpcId=${P:VpcId|vpc-${hex:17}}",
     "GroupDescription", 0, NULL, NULL},
    {REC("AWS::EC2::SecurityGroupIngress", "*", NULL, 0), NAME_STACK, 0, 0, "sgr-${hex:17}",
     "Id=${Ref}", "IpProtocol", 0, NULL, NULL},
    {REC("AWS::EC2::SecurityGroupEgress", "*", NULL, 0), NAME_STACK, 0, 0, "sgr-${hex:17}",
     "Id=${Ref}", "GroupId,IpProtocol", 0, NULL, NULL},
    /* CloudWatch Logs */
    {REC("AWS::Logs::SubscriptionFilter", "FilterName,LogGroupName", "FilterName", 0), NAME_STACK,
     512, 0, "${Name}", "", "DestinationArn,FilterPattern,LogGroupName", 0, NULL, NULL},
    {REC("AWS::Logs::MetricFilter", "FilterName,LogGroupName", "FilterName", 0), NAME_STACK, 512, 0,
     "${Name}", "", "FilterPattern,LogGroupName,MetricTransformations", 0, NULL, NULL},
    {REC("AWS::Logs::LogStream", "*", "LogStreamName", 0), NAME_STACK, 512, 0, "${Name}", "",
     "LogGroupName", 0, NULL, NULL},
    /* SSM */
    {REC("AWS::SSM::Parameter", "Name", "Name", 0), NAME_CFN, 2048, 0, "${Name}",
     "Type=${P:Type};Value=${P:Value}", "Type,Value", 1, check_ssm_type, NULL},
    /* DynamoDB beyond Table */
    {REC("AWS::DynamoDB::GlobalTable", "TableName,KeySchema", "TableName", 0), NAME_STACK, 255, 0,
     "${Name}",
     "Arn=arn:${Partition}:dynamodb:${Region}:${AccountId}:table/${Name};"
     "StreamArn?StreamSpecification=arn:${Partition}:dynamodb:${Region}:${AccountId}:table/${Name}"
     "/stream/${Time};TableId=${Uuid}",
     "AttributeDefinitions,KeySchema,Replicas", 1, NULL, NULL},
    /* CloudFront */
    {REC("AWS::CloudFront::Distribution", "", NULL, 0), NAME_STACK, 0, 0, "E${UPPER:13}",
     "DomainName=d${lower:13}.cloudfront.net;Id=${Ref}", "DistributionConfig", 0, NULL, NULL},
    {REC("AWS::CloudFront::CloudFrontOriginAccessIdentity", "", NULL, 0), NAME_STACK, 0, 0,
     "E${UPPER:13}", "Id=${Ref};S3CanonicalUserId=${hex:96}",
     "CloudFrontOriginAccessIdentityConfig", 0, NULL, NULL},
    /* Route 53 */
    {REC("AWS::Route53::RecordSet", "Name,Type,HostedZoneId,HostedZoneName,SetIdentifier", NULL, 0),
     NAME_STACK, 0, 0, "${P:Name}", "", "Name,Type", 0, check_record_zone, NULL},
    {REC("AWS::Route53::RecordSetGroup", "HostedZoneId,HostedZoneName", NULL, 0), NAME_STACK, 0, 0,
     "${StackName}-${LogicalId}-${UPPER:13}", "", "", 0, NULL, NULL},
    {REC("AWS::Route53::HostedZone", "Name,VPCs", NULL, 0), NAME_STACK, 0, 0, "Z${UPPER:20}",
     "Id=${Ref};NameServers=[ns-${digits:3}.awsdns-${digits:2}.com,ns-${digits:4}.awsdns-${digits:"
     "2}"
     ".org,ns-${digits:3}.awsdns-${digits:2}.net,ns-${digits:4}.awsdns-${digits:2}.co.uk]",
     "Name", 1, NULL, NULL},
    /* ACM */
    {REC("AWS::CertificateManager::Certificate",
         "DomainName,SubjectAlternativeNames,ValidationMethod,DomainValidationOptions,"
         "CertificateAuthorityArn,KeyAlgorithm",
         NULL, 0),
     NAME_STACK, 0, 0, "arn:${Partition}:acm:${Region}:${AccountId}:certificate/${Uuid}", "",
     "DomainName", 0, NULL, NULL},
    /* Step Functions */
    {REC("AWS::StepFunctions::StateMachine", "StateMachineName,StateMachineType",
         "StateMachineName", 0),
     NAME_LOGICAL, 80, 0, "arn:${Partition}:states:${Region}:${AccountId}:stateMachine:${Name}",
     "Arn=${Ref};Name=${Name};StateMachineRevisionId=${Ref}", "RoleArn", 1, NULL, NULL},
    {REC("AWS::StepFunctions::Activity", "Name", "Name", 0), NAME_STACK, 80, 0,
     "arn:${Partition}:states:${Region}:${AccountId}:activity:${Name}", "Arn=${Ref};Name=${Name}",
     "Name", 1, NULL, NULL},
    /* Elasticsearch / OpenSearch */
    {REC("AWS::Elasticsearch::Domain", "DomainName", "DomainName", 0), NAME_STACK, 28, 1, "${Name}",
     "Arn=arn:${Partition}:es:${Region}:${AccountId}:domain/${Name};"
     "DomainArn=arn:${Partition}:es:${Region}:${AccountId}:domain/${Name};"
     "DomainEndpoint=search-${Name}-${lower:26}.${Region}.es.amazonaws.com",
     "", 1, NULL, NULL},
    {REC("AWS::OpenSearchService::Domain", "DomainName", "DomainName", 0), NAME_STACK, 28, 1,
     "${Name}",
     "Arn=arn:${Partition}:es:${Region}:${AccountId}:domain/${Name};"
     "DomainArn=arn:${Partition}:es:${Region}:${AccountId}:domain/${Name};"
     "DomainEndpoint=search-${Name}-${lower:26}.${Region}.es.amazonaws.com;Id=${Name}",
     "", 1, NULL, NULL},
    /* Application Auto Scaling (DynamoDB capacity) */
    {REC("AWS::ApplicationAutoScaling::ScalableTarget",
         "ResourceId,ScalableDimension,ServiceNamespace", NULL, 0),
     NAME_STACK, 0, 0, "${P:ResourceId}|${P:ScalableDimension}|${P:ServiceNamespace}", "Id=${Ref}",
     "MaxCapacity,MinCapacity,ResourceId,ScalableDimension,ServiceNamespace", 0, NULL, NULL},
    {REC("AWS::ApplicationAutoScaling::ScalingPolicy",
         "PolicyName,ResourceId,ScalableDimension,ScalingTargetId,ServiceNamespace", NULL, 0),
     NAME_STACK, 0, 0,
     "arn:${Partition}:autoscaling:${Region}:${AccountId}:scalingPolicy:${Uuid}:resource/"
     "${P:ServiceNamespace|dynamodb}/${P:ResourceId}:policyName/${P:PolicyName}",
     "Arn=${Ref}", "PolicyName,PolicyType", 0, NULL, NULL},
    /* Secrets Manager, ECR */
    {REC("AWS::SecretsManager::Secret", "Name", "Name", 0), NAME_STACK, 512, 0,
     "arn:${Partition}:secretsmanager:${Region}:${AccountId}:secret:${Name}-${alnum:6}",
     "Id=${Ref}", "", 0, NULL, NULL},
    {REC("AWS::ECR::Repository", "RepositoryName", "RepositoryName", 0), NAME_STACK, 256, 1,
     "${Name}",
     "Arn=arn:${Partition}:ecr:${Region}:${AccountId}:repository/${Name};"
     "RepositoryUri=${AccountId}.dkr.ecr.${Region}.amazonaws.com/${Name}",
     "", 1, NULL, NULL},
    /* RDS, ElastiCache */
    {REC("AWS::RDS::DBInstance",
         "DBInstanceIdentifier,DBName,MasterUsername,DBSubnetGroupName,KmsKeyId,StorageEncrypted,"
         "CharacterSetName,DBClusterIdentifier,AvailabilityZone,SourceRegion,Timezone",
         "DBInstanceIdentifier", 0),
     NAME_STACK, 63, 1, "${Name}",
     "Endpoint.Address=${Name}.c${lower:11}.${Region}.rds.amazonaws.com;Endpoint.Port=${DbPort};"
     "DBInstanceArn=arn:${Partition}:rds:${Region}:${AccountId}:db:${Name};"
     "DbiResourceId=db-${UPPER:26};Endpoint.HostedZoneId=Z2R2ITUGPM61AM",
     "DBInstanceClass", 1, NULL, NULL},
    {REC("AWS::RDS::DBCluster",
         "DBClusterIdentifier,DatabaseName,MasterUsername,DBSubnetGroupName,KmsKeyId,"
         "StorageEncrypted,AvailabilityZones,EngineMode,SourceRegion",
         "DBClusterIdentifier", 0),
     NAME_STACK, 63, 1, "${Name}",
     "Endpoint.Address=${Name}.cluster-c${lower:11}.${Region}.rds.amazonaws.com;"
     "Endpoint.Port=${DbPort};"
     "ReadEndpoint.Address=${Name}.cluster-ro-c${lower:11}.${Region}.rds.amazonaws.com;"
     "DBClusterArn=arn:${Partition}:rds:${Region}:${AccountId}:cluster:${Name};"
     "DBClusterResourceId=cluster-${UPPER:26}",
     "Engine", 1, NULL, NULL},
    {REC("AWS::RDS::DBSubnetGroup", "DBSubnetGroupName", "DBSubnetGroupName", 0), NAME_STACK, 255,
     1, "${Name}", "", "DBSubnetGroupDescription,SubnetIds", 1, NULL, NULL},
    {REC("AWS::ElastiCache::CacheCluster",
         "ClusterName,Engine,CacheSubnetGroupName,Port,AZMode,PreferredAvailabilityZone,"
         "SnapshotArns,SnapshotName",
         "ClusterName", 0),
     NAME_STACK, 40, 1, "${Name}",
     "RedisEndpoint.Address=${Name}.${lower:6}.0001.${Region}.cache.amazonaws.com;"
     "RedisEndpoint.Port=${DbPort};"
     "ConfigurationEndpoint.Address=${Name}.${lower:6}.cfg.${Region}.cache.amazonaws.com;"
     "ConfigurationEndpoint.Port=${DbPort}",
     "CacheNodeType,Engine,NumCacheNodes", 1, NULL, NULL},
    {REC("AWS::ElastiCache::SubnetGroup", "CacheSubnetGroupName", "CacheSubnetGroupName", 0),
     NAME_STACK, 255, 1, "${Name}", "", "Description,SubnetIds", 1, NULL, NULL},
    /* EC2 networking */
    {REC("AWS::EC2::VPC", "CidrBlock,Ipv4IpamPoolId,Ipv4NetmaskLength", NULL, 0), NAME_STACK, 0, 0,
     "vpc-${hex:17}",
     "CidrBlock=${P:CidrBlock};CidrBlockAssociations=[vpc-cidr-assoc-${hex:17}];"
     "DefaultNetworkAcl=acl-${hex:17};DefaultSecurityGroup=sg-${hex:17};Ipv6CidrBlocks=[];"
     "VpcId=${Ref}",
     "", 0, NULL, NULL},
    {REC("AWS::EC2::Subnet", "AvailabilityZone,AvailabilityZoneId,CidrBlock,VpcId,OutpostArn", NULL,
         0),
     NAME_STACK, 0, 0, "subnet-${hex:17}",
     "AvailabilityZone=${P:AvailabilityZone|${Region}a};CidrBlock=${P:CidrBlock};"
     "Ipv6CidrBlocks=[];NetworkAclAssociationId=aclassoc-${hex:17};SubnetId=${Ref};"
     "VpcId=${P:VpcId}",
     "VpcId", 0, NULL, NULL},
    {REC("AWS::EC2::InternetGateway", "", NULL, 0), NAME_STACK, 0, 0, "igw-${hex:17}",
     "InternetGatewayId=${Ref}", "", 0, NULL, NULL},
    {REC("AWS::EC2::VPCGatewayAttachment", "VpcId", NULL, 0), NAME_STACK, 0, 0, "${Name}", "",
     "VpcId", 0, NULL, NULL},
    {REC("AWS::EC2::RouteTable", "VpcId", NULL, 0), NAME_STACK, 0, 0, "rtb-${hex:17}",
     "RouteTableId=${Ref}", "VpcId", 0, NULL, NULL},
    {REC("AWS::EC2::Route", "RouteTableId,DestinationCidrBlock,DestinationIpv6CidrBlock", NULL, 0),
     NAME_STACK, 0, 0, "${P:RouteTableId}|${P:DestinationCidrBlock|${P:DestinationIpv6CidrBlock}}",
     "CidrBlock=${P:DestinationCidrBlock|}", "RouteTableId", 0, NULL, NULL},
    {REC("AWS::EC2::SubnetRouteTableAssociation", "SubnetId", NULL, 0), NAME_STACK, 0, 0,
     "rtbassoc-${hex:17}", "Id=${Ref}", "RouteTableId,SubnetId", 0, NULL, NULL},
    {REC("AWS::EC2::EIP", "Domain,NetworkBorderGroup", NULL, 0), NAME_STACK, 0, 0,
     "54.${Octet}.${Octet}.${Octet}", "AllocationId=eipalloc-${hex:17};PublicIp=${Ref}", "", 0,
     NULL, NULL},
    {REC("AWS::EC2::NatGateway", "SubnetId,AllocationId,ConnectivityType,PrivateIpAddress", NULL,
         0),
     NAME_STACK, 0, 0, "nat-${hex:17}", "NatGatewayId=${Ref}", "SubnetId", 0, NULL, NULL},
    /* EventBridge buses, API Gateway custom domains and account, SimpleDB */
    {REC("AWS::Events::EventBus", "Name,EventSourceName", "Name", 0), NAME_STACK, 256, 0, "${Name}",
     "Arn=arn:${Partition}:events:${Region}:${AccountId}:event-bus/${Name};Name=${Name}", "Name", 1,
     NULL, NULL},
    {REC("AWS::ApiGateway::DomainName", "DomainName", "DomainName", 0), NAME_STACK, 0, 0,
     "${P:DomainName}",
     "DistributionDomainName=d${lower:13}.cloudfront.net;DistributionHostedZoneId=Z2FDTNDATAQYW2;"
     "RegionalDomainName=d-${lower:10}.execute-api.${Region}.amazonaws.com;"
     "RegionalHostedZoneId=Z1UJRXOUMOOFQ8",
     "DomainName", 1, NULL, NULL},
    {REC("AWS::ApiGateway::BasePathMapping", "DomainName", NULL, 0), NAME_STACK, 0, 0, "${Name}",
     "", "DomainName", 0, NULL, NULL},
    {REC("AWS::ApiGateway::Account", "", NULL, 0), NAME_STACK, 0, 0, "${Name}", "Id=${Ref}", "", 0,
     NULL, NULL},
    {REC("AWS::SDB::Domain", "", NULL, 0), NAME_STACK, 255, 0, "${Name}", "", "", 0, NULL, NULL},
    /* Lambda layers (greenroom's Lambda has none: functions keep the ARNs only) */
    {REC("AWS::Lambda::LayerVersion", "*", "LayerName", 0), NAME_STACK, 140, 0,
     "arn:${Partition}:lambda:${Region}:${AccountId}:layer:${Name}:${LayerVersion}",
     "LayerVersionArn=${Ref}", "Content", 0, NULL, NULL},
    {REC("AWS::Lambda::LayerVersionPermission", "*", NULL, 0), NAME_STACK, 0, 0,
     "${P:LayerVersionArn}#${Name}", "", "Action,LayerVersionArn,Principal", 0, NULL, NULL},
    /* served services without the operations behind these types */
    {REC("AWS::IAM::AccessKey", "Serial,UserName", NULL, 1), NAME_STACK, 0, 0, "AKIA${UPPER:16}",
     "SecretAccessKey=${alnum:40}", "UserName", 0, NULL, NULL},
    {REC("AWS::IAM::InstanceProfile", "InstanceProfileName,Path", "InstanceProfileName", 2),
     NAME_STACK, 128, 0, "${Name}",
     "Arn=arn:${Partition}:iam::${AccountId}:instance-profile${P:Path|/}${Name}", "Roles", 1, NULL,
     NULL},
    {REC("AWS::IAM::UserToGroupAddition", "", NULL, 1), NAME_STACK, 128, 0, "${Name}", "",
     "GroupName,Users", 0, NULL, NULL},
    {REC("AWS::ApiGateway::GatewayResponse", "ResponseType,RestApiId", NULL, 0), NAME_STACK, 0, 0,
     "${lower:6}", "Id=${Ref}", "ResponseType,RestApiId", 0, NULL, NULL},
    {REC("AWS::ApiGateway::RequestValidator", "Name,RestApiId", NULL, 0), NAME_STACK, 0, 0,
     "${lower:6}", "RequestValidatorId=${Ref}", "RestApiId", 0, NULL, NULL},
    {REC("AWS::Lambda::Url", "TargetFunctionArn,Qualifier", NULL, 0), NAME_STACK, 0, 0,
     "${LambdaArn}",
     "FunctionArn=${LambdaArn};FunctionUrl=https://${lower:32}.lambda-url.${Region}.on.aws/",
     "AuthType,TargetFunctionArn", 1, NULL, NULL},
};

static const struct rec_type *rec_find(const char *type)
{
    size_t i;
    for (i = 0; type != NULL && i < sizeof(rec_types) / sizeof(rec_types[0]); i++) {
        if (strcmp(rec_types[i].base.type, type) == 0) {
            return &rec_types[i];
        }
    }
    return NULL;
}

const struct cfn_rtype *cfn_recorded_find(const char *type)
{
    const struct rec_type *t = rec_find(type);
    return t ? &t->base : NULL;
}

/* ------------------------------------------------- unrecognised types */

/* The service namespaces of AWS's resource types (AWS::<this>::...). */
static const char *const aws_namespaces[] = {"ACMPCA",
                                             "APS",
                                             "AccessAnalyzer",
                                             "AmazonMQ",
                                             "Amplify",
                                             "AmplifyUIBuilder",
                                             "ApiGateway",
                                             "ApiGatewayV2",
                                             "AppConfig",
                                             "AppFlow",
                                             "AppIntegrations",
                                             "AppMesh",
                                             "AppRunner",
                                             "AppStream",
                                             "AppSync",
                                             "ApplicationAutoScaling",
                                             "ApplicationInsights",
                                             "Athena",
                                             "AuditManager",
                                             "AutoScaling",
                                             "AutoScalingPlans",
                                             "Backup",
                                             "BackupGateway",
                                             "Batch",
                                             "Bedrock",
                                             "BillingConductor",
                                             "Budgets",
                                             "CE",
                                             "CUR",
                                             "Cassandra",
                                             "CertificateManager",
                                             "Chatbot",
                                             "CleanRooms",
                                             "Cloud9",
                                             "CloudFormation",
                                             "CloudFront",
                                             "CloudTrail",
                                             "CloudWatch",
                                             "CodeArtifact",
                                             "CodeBuild",
                                             "CodeCommit",
                                             "CodeConnections",
                                             "CodeDeploy",
                                             "CodeGuruProfiler",
                                             "CodeGuruReviewer",
                                             "CodePipeline",
                                             "CodeStar",
                                             "CodeStarConnections",
                                             "CodeStarNotifications",
                                             "Cognito",
                                             "Comprehend",
                                             "Config",
                                             "Connect",
                                             "ConnectCampaigns",
                                             "ControlTower",
                                             "CustomerProfiles",
                                             "DAX",
                                             "DLM",
                                             "DMS",
                                             "DataBrew",
                                             "DataPipeline",
                                             "DataSync",
                                             "DataZone",
                                             "Deadline",
                                             "Detective",
                                             "DevOpsGuru",
                                             "DeviceFarm",
                                             "DirectoryService",
                                             "DocDB",
                                             "DocDBElastic",
                                             "DynamoDB",
                                             "EC2",
                                             "ECR",
                                             "ECS",
                                             "EFS",
                                             "EKS",
                                             "EMR",
                                             "EMRContainers",
                                             "EMRServerless",
                                             "ElastiCache",
                                             "ElasticBeanstalk",
                                             "ElasticLoadBalancing",
                                             "ElasticLoadBalancingV2",
                                             "Elasticsearch",
                                             "EntityResolution",
                                             "EventSchemas",
                                             "Events",
                                             "Evidently",
                                             "FIS",
                                             "FMS",
                                             "FSx",
                                             "FinSpace",
                                             "Forecast",
                                             "FraudDetector",
                                             "GameLift",
                                             "GlobalAccelerator",
                                             "Glue",
                                             "Grafana",
                                             "Greengrass",
                                             "GreengrassV2",
                                             "GroundStation",
                                             "GuardDuty",
                                             "HealthImaging",
                                             "HealthLake",
                                             "IAM",
                                             "IVS",
                                             "IVSChat",
                                             "IdentityStore",
                                             "ImageBuilder",
                                             "Inspector",
                                             "InspectorV2",
                                             "InternetMonitor",
                                             "IoT",
                                             "IoT1Click",
                                             "IoTAnalytics",
                                             "IoTCoreDeviceAdvisor",
                                             "IoTEvents",
                                             "IoTFleetHub",
                                             "IoTFleetWise",
                                             "IoTSiteWise",
                                             "IoTThingsGraph",
                                             "IoTTwinMaker",
                                             "IoTWireless",
                                             "KMS",
                                             "KafkaConnect",
                                             "Kendra",
                                             "KendraRanking",
                                             "Kinesis",
                                             "KinesisAnalytics",
                                             "KinesisAnalyticsV2",
                                             "KinesisFirehose",
                                             "KinesisVideo",
                                             "LakeFormation",
                                             "Lambda",
                                             "Lex",
                                             "LicenseManager",
                                             "Lightsail",
                                             "Location",
                                             "Logs",
                                             "LookoutEquipment",
                                             "LookoutMetrics",
                                             "LookoutVision",
                                             "M2",
                                             "MSK",
                                             "MWAA",
                                             "Macie",
                                             "ManagedBlockchain",
                                             "MediaConnect",
                                             "MediaConvert",
                                             "MediaLive",
                                             "MediaPackage",
                                             "MediaPackageV2",
                                             "MediaStore",
                                             "MediaTailor",
                                             "MemoryDB",
                                             "Neptune",
                                             "NeptuneGraph",
                                             "NetworkFirewall",
                                             "NetworkManager",
                                             "NimbleStudio",
                                             "OSIS",
                                             "Oam",
                                             "Omics",
                                             "OpenSearchServerless",
                                             "OpenSearchService",
                                             "OpsWorks",
                                             "OpsWorksCM",
                                             "Organizations",
                                             "PCAConnectorAD",
                                             "Panorama",
                                             "PaymentCryptography",
                                             "Personalize",
                                             "Pinpoint",
                                             "PinpointEmail",
                                             "Pipes",
                                             "Proton",
                                             "QBusiness",
                                             "QLDB",
                                             "QuickSight",
                                             "RAM",
                                             "RDS",
                                             "RUM",
                                             "Redshift",
                                             "RedshiftServerless",
                                             "RefactorSpaces",
                                             "Rekognition",
                                             "ResilienceHub",
                                             "ResourceExplorer2",
                                             "ResourceGroups",
                                             "RoboMaker",
                                             "RolesAnywhere",
                                             "Route53",
                                             "Route53RecoveryControl",
                                             "Route53RecoveryReadiness",
                                             "Route53Resolver",
                                             "S3",
                                             "S3Express",
                                             "S3ObjectLambda",
                                             "S3Outposts",
                                             "SDB",
                                             "SES",
                                             "SNS",
                                             "SQS",
                                             "SSM",
                                             "SSMContacts",
                                             "SSMIncidents",
                                             "SSO",
                                             "SageMaker",
                                             "Scheduler",
                                             "SecretsManager",
                                             "SecurityHub",
                                             "SecurityLake",
                                             "ServiceCatalog",
                                             "ServiceCatalogAppRegistry",
                                             "ServiceDiscovery",
                                             "Shield",
                                             "Signer",
                                             "SimSpaceWeaver",
                                             "StepFunctions",
                                             "SupportApp",
                                             "Synthetics",
                                             "SystemsManagerSAP",
                                             "Timestream",
                                             "Transfer",
                                             "VerifiedPermissions",
                                             "VoiceID",
                                             "VpcLattice",
                                             "WAF",
                                             "WAFRegional",
                                             "WAFv2",
                                             "Wisdom",
                                             "WorkSpaces",
                                             "WorkSpacesThinClient",
                                             "WorkSpacesWeb",
                                             "XRay",
                                             NULL};

/* The complete type lists of the namespaces greenroom serves or knows well
 * (a type outside them is unknown to AWS too); other namespaces are
 * checked by name only. */
static const struct {
    const char *ns;
    const char *types; /* ",A,B," */
} aws_ns_types[] = {
    {"ApiGateway", ",Account,ApiKey,Authorizer,BasePathMapping,BasePathMappingV2,"
                   "ClientCertificate,Deployment,DocumentationPart,DocumentationVersion,DomainName,"
                   "DomainNameAccessAssociation,DomainNameV2,GatewayResponse,Method,Model,"
                   "RequestValidator,Resource,RestApi,Stage,UsagePlan,UsagePlanKey,VpcLink,"},
    {"CloudFormation", ",CustomResource,GuardHook,HookDefaultVersion,HookTypeConfig,HookVersion,"
                       "LambdaHook,Macro,ModuleDefaultVersion,ModuleVersion,PublicTypeVersion,"
                       "Publisher,ResourceDefaultVersion,ResourceVersion,Stack,StackSet,"
                       "TypeActivation,WaitCondition,WaitConditionHandle,"},
    {"DynamoDB", ",GlobalTable,Table,"},
    {"Events", ",ApiDestination,Archive,Connection,Endpoint,EventBus,EventBusPolicy,Rule,"},
    {"IAM", ",AccessKey,Group,GroupPolicy,InstanceProfile,ManagedPolicy,OIDCProvider,Policy,Role,"
            "RolePolicy,SAMLProvider,ServerCertificate,ServiceLinkedRole,User,UserPolicy,"
            "UserToGroupAddition,VirtualMFADevice,"},
    {"Kinesis", ",ResourcePolicy,Stream,StreamConsumer,"},
    {"Lambda", ",Alias,CodeSigningConfig,EventInvokeConfig,EventSourceMapping,Function,"
               "LayerVersion,LayerVersionPermission,Permission,Url,Version,"},
    {"Logs", ",AccountPolicy,Delivery,DeliveryDestination,DeliverySource,Destination,Integration,"
             "LogAnomalyDetector,LogGroup,LogStream,MetricFilter,QueryDefinition,ResourcePolicy,"
             "SubscriptionFilter,Transformer,"},
    {"S3", ",AccessGrant,AccessGrantsInstance,AccessGrantsLocation,AccessPoint,Bucket,"
           "BucketPolicy,MultiRegionAccessPoint,MultiRegionAccessPointPolicy,StorageLens,"
           "StorageLensGroup,"},
    {"SNS", ",Subscription,Topic,TopicInlinePolicy,TopicPolicy,"},
    {"SQS", ",Queue,QueueInlinePolicy,QueuePolicy,"},
};

/* Whether AWS knows the type (a type we serve or record, a custom resource,
 * a type of a namespace listed above, or any type of another AWS service
 * namespace). */
static int type_recognized(const char *type)
{
    size_t i;
    const char *ns, *sep;
    if (cfn_rtype_find(type) != NULL || strncmp(type, "Custom::", 8) == 0 ||
        strncmp(type, "Alexa::", 7) == 0 || strncmp(type, "AWS::Serverless::", 17) == 0) {
        return 1;
    }
    if (strncmp(type, "AWS::", 5) != 0) {
        return 0;
    }
    ns = type + 5;
    sep = strstr(ns, "::");
    if (sep == NULL || sep == ns || sep[2] == 0 || strstr(sep + 2, "::") != NULL) {
        return 0;
    }
    for (i = 0; i < sizeof(aws_ns_types) / sizeof(aws_ns_types[0]); i++) {
        size_t n = strlen(aws_ns_types[i].ns);
        if ((size_t)(sep - ns) == n && strncmp(ns, aws_ns_types[i].ns, n) == 0) {
            char item[160];
            snprintf(item, sizeof(item), ",%s,", sep + 2);
            return strstr(aws_ns_types[i].types, item) != NULL;
        }
    }
    for (i = 0; aws_namespaces[i] != NULL; i++) {
        size_t n = strlen(aws_namespaces[i]);
        if ((size_t)(sep - ns) == n && strncmp(ns, aws_namespaces[i], n) == 0) {
            return 1;
        }
    }
    return 0;
}

int cfn_types_unrecognized(const cJSON *resources, char *out, size_t outlen)
{
    const cJSON *it;
    int n = 0;
    size_t len = 0;
    out[0] = 0;
    cJSON_ArrayForEach(it, resources)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "Type");
        if (!cJSON_IsString(t) || type_recognized(t->valuestring)) {
            continue;
        }
        {
            /* each type once */
            char needle[300];
            snprintf(needle, sizeof(needle), "%s", t->valuestring);
            if (n > 0 && (strstr(out, needle) != NULL)) {
                const char *p = out;
                int dup = 0;
                size_t nl = strlen(needle);
                while ((p = strstr(p, needle)) != NULL) {
                    if ((p == out || p[-1] == ' ') && (p[nl] == ',' || p[nl] == 0)) {
                        dup = 1;
                        break;
                    }
                    p += nl;
                }
                if (dup) {
                    continue;
                }
            }
        }
        if (len < outlen) {
            int w = snprintf(out + len, outlen - len, "%s%s", n > 0 ? ", " : "", t->valuestring);
            if (w > 0) {
                len += (size_t)w;
            }
        }
        n++;
    }
    return n;
}
