/*
 * test_s3_config.c - S3 bucket settings (emulator/s3_config.c) against a
 * real greenroom on port 0: a new bucket answers AWS's defaults (owner-only
 * ACL, SSE-S3 encryption, every public access block setting on,
 * BucketOwnerEnforced ownership, no CORS), keeps what is put and forgets what
 * is deleted; ACL writes beyond the owner's FULL_CONTROL are refused with
 * AccessControlListNotSupported on PutObject, CopyObject,
 * CreateMultipartUpload, PutBucketAcl and PutObjectAcl while ACLs are
 * disabled, and CreateBucket refuses a public ACL unless its Object
 * Ownership allows ACLs.
 *
 * Sub-resources are written "?acl=" (curl's SigV4 canonicalises a bare "?x"
 * differently from AWS).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "testkit.h"

#include "s3_testkit.h"

/* Sends a signed S3 request; asserts the status and, when want != NULL,
 * that the body contains it. */
static void expect(const char *method, const char *path, const char *const *hdrs, const char *body,
                   long status, const char *want)
{
    struct gr_resp r;
    long st = s3(method, path, hdrs, body, body ? strlen(body) : 0, &r);
    ck_assert_msg(st == status, "%s %s: want %ld, got %ld: %s", method, path, status, st, r.body);
    ck_assert_msg(want == NULL || strstr(r.body, want) != NULL, "%s %s: want '%s' in %s", method,
                  path, want, r.body);
    gr_resp_free(&r);
}

START_TEST(test_acl)
{
    expect("PUT", "/cfg-bkt", NULL, NULL, 200, NULL);
    expect("PUT", "/cfg-bkt/k", NULL, "x", 200, NULL);
    expect("GET", "/cfg-bkt?acl=", NULL, NULL, 200,
           "<Permission>FULL_CONTROL</Permission></Grant></AccessControlList>");
    expect("GET", "/cfg-bkt/k?acl=", NULL, NULL, 200, "xsi:type=\"CanonicalUser\"");
    expect("GET", "/cfg-bkt/none?acl=", NULL, NULL, 404, "<Code>NoSuchKey</Code>");
    const char *priv[] = {"x-amz-acl: private", NULL};
    const char *pub[] = {"x-amz-acl: public-read", NULL};
    const char *grant[] = {"x-amz-grant-read: uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"",
                           NULL};
    const char *bogus[] = {"x-amz-acl: everyone", NULL};
    expect("PUT", "/cfg-bkt?acl=", priv, NULL, 200, NULL);
    expect("PUT", "/cfg-bkt?acl=", pub, NULL, 400, "<Code>AccessControlListNotSupported</Code>");
    expect("PUT", "/cfg-bkt/k?acl=", grant, NULL, 400, "<Code>AccessControlListNotSupported</Code>");
    expect("PUT", "/cfg-bkt/k?acl=", bogus, NULL, 400, "<Code>InvalidArgument</Code>");
    /* a body granting the owner FULL_CONTROL only is fine; AllUsers is not */
    struct gr_resp r;
    ck_assert_int_eq(s3("GET", "/cfg-bkt?acl=", NULL, NULL, 0, &r), 200);
    char *doc = strdup(r.body);
    gr_resp_free(&r);
    char *xmldecl_end = strstr(doc, "?>");
    const char *own = xmldecl_end != NULL ? xmldecl_end + 2 : doc;
    while (*own == '\n') {
        own++;
    }
    expect("PUT", "/cfg-bkt/k?acl=", NULL, own, 200, NULL);
    free(doc);
    expect("PUT", "/cfg-bkt/k?acl=", NULL,
           "<AccessControlPolicy><AccessControlList><Grant><Grantee><URI>http://acs.amazonaws.com/"
           "groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>"
           "</AccessControlList></AccessControlPolicy>",
           400, "<Code>AccessControlListNotSupported</Code>");

    /* ACL headers on writes */
    const char *bofc[] = {"x-amz-acl: bucket-owner-full-control", NULL};
    expect("PUT", "/cfg-bkt/k2", bofc, "y", 200, NULL);
    expect("PUT", "/cfg-bkt/k3", pub, "y", 400, "<Code>AccessControlListNotSupported</Code>");
    expect("HEAD", "/cfg-bkt/k3", NULL, NULL, 404, NULL);
    const char *copy_pub[] = {"x-amz-copy-source: /cfg-bkt/k", "x-amz-acl: public-read", NULL};
    expect("PUT", "/cfg-bkt/k4", copy_pub, NULL, 400, "<Code>AccessControlListNotSupported</Code>");
    expect("POST", "/cfg-bkt/k5?uploads=", pub, NULL, 400,
           "<Code>AccessControlListNotSupported</Code>");
    expect("PUT", "/no-such-cfg-bkt/k", pub, "y", 404, "<Code>NoSuchBucket</Code>");

    /* CreateBucket: a public ACL needs an ownership setting that allows ACLs */
    expect("PUT", "/cfg-pub", pub, NULL, 400, "<Code>InvalidBucketAclWithObjectOwnership</Code>");
    const char *writer[] = {"x-amz-acl: public-read", "x-amz-object-ownership: ObjectWriter", NULL};
    expect("PUT", "/cfg-pub", writer, NULL, 200, NULL);
    expect("GET", "/cfg-pub?ownershipControls=", NULL, NULL, 200,
           "<ObjectOwnership>ObjectWriter</ObjectOwnership>");
    expect("PUT", "/cfg-pub/k", pub, "z", 200, NULL);
    expect("PUT", "/cfg-pub/k?acl=", grant, NULL, 200, NULL);
    const char *badown[] = {"x-amz-object-ownership: Nobody", NULL};
    expect("PUT", "/cfg-bad-own", badown, NULL, 400, "<Code>InvalidArgument</Code>");
}
END_TEST

START_TEST(test_encryption)
{
    expect("PUT", "/cfg-bkt", NULL, NULL, 200, NULL);
    expect("GET", "/cfg-bkt?encryption=", NULL, NULL, 200,
           "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>");
    expect("PUT", "/cfg-bkt?encryption=", NULL,
           "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
           "<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/app</KMSMasterKeyID>"
           "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule>"
           "</ServerSideEncryptionConfiguration>",
           200, NULL);
    expect("GET", "/cfg-bkt?encryption=", NULL, NULL, 200,
           "<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/app</KMSMasterKeyID>"
           "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled>");
    expect("PUT", "/cfg-bkt?encryption=", NULL,
           "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
           "<SSEAlgorithm>rot13</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>"
           "</ServerSideEncryptionConfiguration>",
           400, "<Code>MalformedXML</Code>");
    expect("PUT", "/cfg-bkt?encryption=", NULL,
           "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
           "<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>"
           "</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>",
           400, "<Code>InvalidArgument</Code>");
    expect("DELETE", "/cfg-bkt?encryption=", NULL, NULL, 204, NULL);
    expect("GET", "/cfg-bkt?encryption=", NULL, NULL, 200, "<SSEAlgorithm>AES256</SSEAlgorithm>");
    expect("GET", "/no-such-cfg-bkt?encryption=", NULL, NULL, 404, "<Code>NoSuchBucket</Code>");
}
END_TEST

START_TEST(test_public_access_block)
{
    expect("PUT", "/cfg-bkt", NULL, NULL, 200, NULL);
    expect("GET", "/cfg-bkt?publicAccessBlock=", NULL, NULL, 200,
           "<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>"
           "<BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true"
           "</RestrictPublicBuckets>");
    expect("PUT", "/cfg-bkt?publicAccessBlock=", NULL,
           "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>"
           "</PublicAccessBlockConfiguration>",
           200, NULL);
    expect("GET", "/cfg-bkt?publicAccessBlock=", NULL, NULL, 200,
           "<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls>");
    expect("PUT", "/cfg-bkt?publicAccessBlock=", NULL,
           "<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls>"
           "</PublicAccessBlockConfiguration>",
           400, "<Code>MalformedXML</Code>");
    expect("DELETE", "/cfg-bkt?publicAccessBlock=", NULL, NULL, 204, NULL);
    expect("GET", "/cfg-bkt?publicAccessBlock=", NULL, NULL, 404,
           "<Code>NoSuchPublicAccessBlockConfiguration</Code>");
}
END_TEST

START_TEST(test_ownership_controls)
{
    expect("PUT", "/cfg-bkt", NULL, NULL, 200, NULL);
    expect("GET", "/cfg-bkt?ownershipControls=", NULL, NULL, 200,
           "<Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule>");
    const char *pub[] = {"x-amz-acl: public-read", NULL};
    expect("PUT", "/cfg-bkt/k", pub, "x", 400, "<Code>AccessControlListNotSupported</Code>");
    expect("PUT", "/cfg-bkt?ownershipControls=", NULL,
           "<OwnershipControls><Rule><ObjectOwnership>BucketOwnerPreferred</ObjectOwnership></Rule>"
           "</OwnershipControls>",
           200, NULL);
    expect("PUT", "/cfg-bkt/k", pub, "x", 200, NULL);
    expect("PUT", "/cfg-bkt?ownershipControls=", NULL,
           "<OwnershipControls><Rule><ObjectOwnership>Anyone</ObjectOwnership></Rule>"
           "</OwnershipControls>",
           400, "<Code>MalformedXML</Code>");
    expect("DELETE", "/cfg-bkt?ownershipControls=", NULL, NULL, 204, NULL);
    expect("GET", "/cfg-bkt?ownershipControls=", NULL, NULL, 404,
           "<Code>OwnershipControlsNotFoundError</Code>");
}
END_TEST

START_TEST(test_cors)
{
    expect("PUT", "/cfg-bkt", NULL, NULL, 200, NULL);
    expect("GET", "/cfg-bkt?cors=", NULL, NULL, 404, "<Code>NoSuchCORSConfiguration</Code>");
    expect("PUT", "/cfg-bkt?cors=", NULL,
           "<CORSConfiguration><CORSRule><ID>web</ID><AllowedOrigin>http://app.example</AllowedOrigin>"
           "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>"
           "<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
           "<MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>",
           200, NULL);
    expect("GET", "/cfg-bkt?cors=", NULL, NULL, 200,
           "<CORSRule><ID>web</ID><AllowedHeader>*</AllowedHeader><AllowedMethod>GET</AllowedMethod>"
           "<AllowedMethod>PUT</AllowedMethod><AllowedOrigin>http://app.example</AllowedOrigin>"
           "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>");
    expect("PUT", "/cfg-bkt?cors=", NULL,
           "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
           "<AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>",
           400, "Unsupported method is PATCH");
    expect("PUT", "/cfg-bkt?cors=", NULL,
           "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>"
           "</CORSConfiguration>",
           400, "<Code>MalformedXML</Code>");
    expect("DELETE", "/cfg-bkt?cors=", NULL, NULL, 204, NULL);
    expect("GET", "/cfg-bkt?cors=", NULL, NULL, 404, "<Code>NoSuchCORSConfiguration</Code>");
}
END_TEST

int main(void)
{
    const struct kit_case cases[] = {
        {"BucketAndObjectAcl", test_acl, NULL},
        {"BucketEncryption", test_encryption, NULL},
        {"PublicAccessBlock", test_public_access_block, NULL},
        {"BucketOwnershipControls", test_ownership_controls, NULL},
        {"BucketCors", test_cors, NULL},
    };
    return KIT_RUN("s3_config", cases, setup, teardown, 60);
}
