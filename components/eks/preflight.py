"""Tools the prod program needs on the machine that runs `pulumi up`, checked before any resource exists."""

from __future__ import annotations

import shutil

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import get_monitor

AWS_CLI = "aws"


class MissingPrerequisite(pulumi.RunError):
    """A tool the program needs is not installed; Pulumi prints the message without a traceback."""


def require_aws_cli() -> None:
    """The cluster's kubeconfig (pulumi-eks) runs `aws eks get-token` for every Kubernetes call: without the AWS
    CLI the first Kubernetes resource fails after the VPC and cluster were already created, with an exec error.
    Skipped under Pulumi mocks (tests, the offline render), which never call Kubernetes."""
    if isinstance(get_monitor(), MockMonitor):
        return
    if shutil.which(AWS_CLI) is None:
        raise MissingPrerequisite(
            "the eks target needs the AWS CLI (v2) on PATH: the cluster's kubeconfig runs `aws eks get-token` "
            "for every Kubernetes call. Install it (https://docs.aws.amazon.com/cli/latest/userguide/"
            "getting-started-install.html), check `aws sts get-caller-identity`, then run pulumi up again"
        )
