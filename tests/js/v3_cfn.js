/* tests/js/v3_cfn.js - @aws-sdk/client-cloudformation (v3) against greenroom:
 * CreateStack of a template with an S3 bucket and an SNS topic,
 * waitUntilStackCreateComplete, DescribeStacks outputs checked against S3 and
 * SNS, DescribeStackResources, the DescribeStackEvents paginator, a stack
 * failed by a cfnResourceFailure fault (the waiter rejects, the stack rolls
 * back), DeleteStack + waitUntilStackDeleteComplete and the "does not exist"
 * ValidationError; a YAML app stack (IAM role, Lambda function with inline
 * code, API Gateway proxy method, permission, deployment) called at its stage
 * URL and deleted. Run by tests/cli/test_jssdk_v3.sh. */
'use strict';
const {
    CloudFormationClient, CreateStackCommand, DescribeStacksCommand, DescribeStackResourcesCommand,
    DeleteStackCommand, paginateDescribeStackEvents, waitUntilStackCreateComplete, waitUntilStackDeleteComplete,
} = require('@aws-sdk/client-cloudformation');
const { S3Client, HeadBucketCommand } = require('@aws-sdk/client-s3');
const { SNSClient, GetTopicAttributesCommand } = require('@aws-sdk/client-sns');
const t = require('./common');

const template = JSON.stringify({
    AWSTemplateFormatVersion: '2010-09-09',
    Parameters: { Suffix: { Type: 'String', Default: 'x' } },
    Resources: {
        Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: { 'Fn::Sub': 'js-cfn-bkt-${Suffix}' } } },
        Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: { 'Fn::Sub': 'js-cfn-topic-${Suffix}' } } },
    },
    Outputs: {
        BucketName: { Value: { Ref: 'Bucket' } },
        BucketArn: { Value: { 'Fn::GetAtt': ['Bucket', 'Arn'] } },
        TopicArn: { Value: { Ref: 'Topic' } },
    },
});
const wait = { maxWaitTime: 60, minDelay: 1, maxDelay: 2 };

/* a YAML app: a role, a function with inline code, a REST API with a proxy
 * method, the permission and a deployment (what a serverless app looks like) */
const appTemplate = `
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Stage: { Type: String, Default: dev }
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{ Effect: Allow, Principal: { Service: lambda.amazonaws.com }, Action: sts:AssumeRole }]
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Environment: { Variables: { STAGE: !Ref Stage, TABLE: !Sub '\${AWS::StackName}-t' } }
      Code:
        ZipFile: |
          exports.handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ stage: process.env.STAGE, table: process.env.TABLE, path: event.path }) });
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: { Name: !Sub '\${AWS::StackName}-api' }
  Res:
    Type: AWS::ApiGateway::Resource
    Properties: { RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: hello }
  Method:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Res
      HttpMethod: GET
      AuthorizationType: NONE
      Integration:
        Type: AWS_PROXY
        IntegrationHttpMethod: POST
        Uri: !Sub 'arn:aws:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${Fn.Arn}/invocations'
  Perm:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub 'arn:aws:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${Api}/*/*/*'
  Deployment:
    Type: AWS::ApiGateway::Deployment
    DependsOn: Method
    Properties: { RestApiId: !Ref Api, StageName: !Ref Stage }
Outputs:
  Url:
    Value: !Sub 'https://\${Api}.execute-api.\${AWS::Region}.amazonaws.com/\${Stage}/hello'
  ApiId: { Value: !Ref Api }
`;

async function main() {
    const cfn = new CloudFormationClient(t.v3opts());
    const s3 = new S3Client(t.v3opts());
    const sns = new SNSClient(t.v3opts());
    let stackId;

    await t.step('CreateStack + waitUntilStackCreateComplete', async () => {
        const r = await cfn.send(new CreateStackCommand({ StackName: 'js-v3-stack', TemplateBody: template,
                                                         Parameters: [{ ParameterKey: 'Suffix', ParameterValue: 'one' }],
                                                         Tags: [{ Key: 'team', Value: 'js' }] }));
        stackId = r.StackId;
        t.ok('CreateStack returns a stack ARN',
             /^arn:aws:cloudformation:us-east-1:000000000000:stack\/js-v3-stack\/[0-9a-f-]+$/.test(stackId), stackId);
        const w = await waitUntilStackCreateComplete({ client: cfn, ...wait }, { StackName: 'js-v3-stack' });
        t.eq('waitUntilStackCreateComplete succeeds', 'SUCCESS', w.state);
    });

    await t.step('DescribeStacks outputs', async () => {
        const d = await cfn.send(new DescribeStacksCommand({ StackName: 'js-v3-stack' }));
        const s = d.Stacks[0];
        const out = Object.fromEntries((s.Outputs || []).map((o) => [o.OutputKey, o.OutputValue]).sort());
        t.eq('stack status, id, tag, parameter', ['CREATE_COMPLETE', stackId, 'js', 'one'],
             [s.StackStatus, s.StackId, s.Tags && s.Tags[0] && s.Tags[0].Value,
              s.Parameters && s.Parameters[0] && s.Parameters[0].ParameterValue]);
        t.eq('outputs: bucket name and ARN, topic ARN',
             { BucketArn: 'arn:aws:s3:::js-cfn-bkt-one', BucketName: 'js-cfn-bkt-one',
               TopicArn: 'arn:aws:sns:us-east-1:000000000000:js-cfn-topic-one' }, out);
        const h = await s3.send(new HeadBucketCommand({ Bucket: out.BucketName }));
        t.eq('the stack\'s bucket exists in S3', 200, h.$metadata.httpStatusCode);
        const a = await sns.send(new GetTopicAttributesCommand({ TopicArn: out.TopicArn }));
        t.eq('the stack\'s topic exists in SNS', out.TopicArn, a.Attributes && a.Attributes.TopicArn);
        const res = await cfn.send(new DescribeStackResourcesCommand({ StackName: 'js-v3-stack' }));
        t.eq('DescribeStackResources: both resources complete with physical ids',
             [['Bucket', 'AWS::S3::Bucket', 'js-cfn-bkt-one', 'CREATE_COMPLETE'],
              ['Topic', 'AWS::SNS::Topic', out.TopicArn, 'CREATE_COMPLETE']],
             res.StackResources.map((x) => [x.LogicalResourceId, x.ResourceType, x.PhysicalResourceId,
                                            x.ResourceStatus]).sort());
        const events = [];
        for await (const p of paginateDescribeStackEvents({ client: cfn }, { StackName: 'js-v3-stack' })) {
            events.push(...p.StackEvents);
            if (events.length > 1000) {
                break;
            }
        }
        t.eq('stack events: newest first is the stack\'s CREATE_COMPLETE',
             ['js-v3-stack', 'CREATE_COMPLETE'], [events[0].LogicalResourceId, events[0].ResourceStatus]);
        t.ok('stack events include the topic\'s CREATE_IN_PROGRESS',
             events.some((e) => e.LogicalResourceId === 'Topic' && e.ResourceStatus === 'CREATE_IN_PROGRESS'));
    });

    await t.step('a failed resource: the waiter rejects and the stack rolls back', async () => {
        const rule = [{ id: 'js-cfn-fail', service: 'cloudformation', resource: 'js-v3-bad',
                        cfnResourceFailure: { logicalId: 'Topic', reason: 'Resource limit exceeded' } }];
        const f = await t.request('POST', t.url + '/_greenroom/faults', { 'content-type': 'application/json' },
                                  JSON.stringify(rule));
        t.ok('cfnResourceFailure rule accepted', f.status >= 200 && f.status < 300, f.status + ' ' + f.body);
        await cfn.send(new CreateStackCommand({ StackName: 'js-v3-bad', TemplateBody: template,
                                               Parameters: [{ ParameterKey: 'Suffix', ParameterValue: 'bad' }] }));
        const e = await t.throws('waitUntilStackCreateComplete on a failing stack', () =>
            waitUntilStackCreateComplete({ client: cfn, ...wait }, { StackName: 'js-v3-bad' }));
        if (e) {
            t.ok('the waiter fails (not a timeout)', /FAILURE/.test(e.message) && !/TIMEOUT/.test(e.message),
                 e.message.slice(0, 300));
        }
        /* (waitUntilStackRollbackComplete is for UPDATE_ROLLBACK_COMPLETE; the create
         * waiter only fails on a final state) */
        const d = await cfn.send(new DescribeStacksCommand({ StackName: 'js-v3-bad' }));
        t.eq('the failed stack is ROLLBACK_COMPLETE', 'ROLLBACK_COMPLETE', d.Stacks[0].StackStatus);
        const b = await t.throws('HeadBucket of the rolled-back bucket', () =>
            s3.send(new HeadBucketCommand({ Bucket: 'js-cfn-bkt-bad' })));
        if (b) {
            t.eq('the rollback deleted the bucket', 404, b.$metadata.httpStatusCode);
        }
        await t.request('DELETE', t.url + '/_greenroom/faults');
    });

    await t.step('DeleteStack + waitUntilStackDeleteComplete', async () => {
        await cfn.send(new DeleteStackCommand({ StackName: 'js-v3-stack' }));
        const w = await waitUntilStackDeleteComplete({ client: cfn, ...wait }, { StackName: stackId });
        t.eq('waitUntilStackDeleteComplete succeeds', 'SUCCESS', w.state);
        const byId = await cfn.send(new DescribeStacksCommand({ StackName: stackId }));
        t.eq('the deleted stack, by id, is DELETE_COMPLETE', 'DELETE_COMPLETE', byId.Stacks[0].StackStatus);
        let e = await t.throws('DescribeStacks of a deleted stack by name', () =>
            cfn.send(new DescribeStacksCommand({ StackName: 'js-v3-stack' })));
        if (e) {
            t.eq('ValidationError 400 "Stack with id js-v3-stack does not exist"',
                 ['ValidationError', 400, 'Stack with id js-v3-stack does not exist'],
                 [e.name, e.$metadata.httpStatusCode, e.message]);
        }
        e = await t.throws('HeadBucket of the deleted stack\'s bucket', () =>
            s3.send(new HeadBucketCommand({ Bucket: 'js-cfn-bkt-one' })));
        if (e) {
            t.eq('DeleteStack deleted the bucket', 404, e.$metadata.httpStatusCode);
        }
        e = await t.throws('GetTopicAttributes of the deleted stack\'s topic', () =>
            sns.send(new GetTopicAttributesCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:js-cfn-topic-one' })));
        if (e) {
            t.eq('DeleteStack deleted the topic', ['NotFoundException', 404], [e.name, e.$metadata.httpStatusCode]);
        }
    });
    await t.step('a serverless app stack: Lambda (inline code) behind API Gateway', async () => {
        await cfn.send(new CreateStackCommand({ StackName: 'js-v3-app', TemplateBody: appTemplate,
                                               Capabilities: ['CAPABILITY_IAM'] }));
        const w = await waitUntilStackCreateComplete({ client: cfn, ...wait }, { StackName: 'js-v3-app' });
        t.eq('the app stack is created', 'SUCCESS', w.state);
        const d = await cfn.send(new DescribeStacksCommand({ StackName: 'js-v3-app' }));
        const out = Object.fromEntries(d.Stacks[0].Outputs.map((o) => [o.OutputKey, o.OutputValue]));
        t.ok('outputs: the API id in the stage URL', !!out.ApiId &&
             out.Url === 'https://' + out.ApiId + '.execute-api.us-east-1.amazonaws.com/dev/hello', JSON.stringify(out));
        const r = await t.request('GET', t.url + '/_aws/execute-api/' + out.ApiId + '/dev/hello');
        let body = null;
        try {
            body = JSON.parse(r.body.toString());
        } catch (e) {
            body = r.body.toString();
        }
        t.eq('the stage URL runs the inline function with the stack\'s environment',
             [200, { stage: 'dev', table: 'js-v3-app-t', path: '/hello' }], [r.status, body]);
        await cfn.send(new DeleteStackCommand({ StackName: 'js-v3-app' }));
        const dw = await waitUntilStackDeleteComplete({ client: cfn, ...wait }, { StackName: 'js-v3-app' });
        t.eq('the app stack is deleted', 'SUCCESS', dw.state);
        const gone = await t.request('GET', t.url + '/_aws/execute-api/' + out.ApiId + '/dev/hello');
        t.ok('its stage URL is gone', gone.status >= 400, gone.status);
    });
    cfn.destroy();
    s3.destroy();
    sns.destroy();
}

main().then(t.done, (e) => {
    console.log('FAIL - v3 CloudFormation script crashed: ' + (e && e.stack));
    process.exit(1);
});
