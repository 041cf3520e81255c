"""Prepares a running moto server for signed-request tests and turns on its signature checks.

Usage: moto_auth.py ENDPOINT (tests/receiver.rs runs it on a moto of its own).

While moto's IAM checks are still off, creates an IAM user with
an access key and an allow-all inline policy, plus a role it assumes (for temporary credentials
with a session token). Then sets moto's INITIAL_NO_AUTH_ACTION_COUNT to 0 through
/moto-api/reset-auth, so that every later request must carry a valid SigV4 signature (moto
recomputes it with botocore from the headers named in SignedHeaders). Prints the credentials as
JSON.
"""

import json
import sys
import urllib.request

import boto3

ALLOW_ALL = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
)
TRUST_ANYONE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def main():
    endpoint = sys.argv[1]
    kwargs = dict(
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    iam = boto3.client("iam", **kwargs)
    sts = boto3.client("sts", **kwargs)

    iam.create_user(UserName="receiver")
    iam.put_user_policy(UserName="receiver", PolicyName="all", PolicyDocument=ALLOW_ALL)
    key = iam.create_access_key(UserName="receiver")["AccessKey"]

    role = iam.create_role(RoleName="receiver-role", AssumeRolePolicyDocument=TRUST_ANYONE)
    iam.put_role_policy(RoleName="receiver-role", PolicyName="all", PolicyDocument=ALLOW_ALL)
    session = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="test")[
        "Credentials"
    ]

    request = urllib.request.Request(
        endpoint + "/moto-api/reset-auth",
        data=b"0",
        method="POST",
        # Not form-encoded, or Flask moves the body out of request.data.
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request) as response:
        response.read()

    json.dump(
        {
            "user": {
                "access_key_id": key["AccessKeyId"],
                "secret_access_key": key["SecretAccessKey"],
            },
            "session": {
                "access_key_id": session["AccessKeyId"],
                "secret_access_key": session["SecretAccessKey"],
                "session_token": session["SessionToken"],
            },
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
