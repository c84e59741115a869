"""The AWS-managed half of the prod data tier (data.mode `managed`): RDS PostgreSQL and ElastiCache Valkey/Redis,
both Multi-AZ, encrypted, private, and reachable only from the cluster's nodes."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.config import PostgresConfig, RedisConfig
from components.eks.cluster import Platform

POSTGRES_PORT = 5432
REDIS_PORT = 6379
BACKUP_DAYS = 7


def _admit_nodes(name: str, parent: pulumi.Resource, platform: Platform, port: int) -> aws.ec2.SecurityGroup:
    """A security group that lets in `port` from the cluster's nodes (and so its pods) and nothing else."""
    return aws.ec2.SecurityGroup(
        name,
        aws.ec2.SecurityGroupArgs(
            vpc_id=platform.vpc_id,
            description=f"{name}: port {port} from the EKS nodes only",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=port,
                    to_port=port,
                    security_groups=[platform.node_security_group_id],
                )
            ],
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def managed_postgres(
    name: str, parent: pulumi.Resource, platform: Platform, settings: PostgresConfig, password: pulumi.Input[str]
) -> pulumi.Output[str]:
    """RDS PostgreSQL, Multi-AZ (a synchronous standby in another zone takes over on failure); returns its host.

    The master password is the generated `password`, not `manage_master_user_password`: that one lives in
    Secrets Manager and rotates there, so every replica would need a Secrets Manager client (or an operator
    syncing it) to build DATABASE_URL. A generated password stays a Pulumi secret, encrypted in the state,
    and reaches the replicas only inside a Kubernetes Secret.
    """
    firewall = _admit_nodes(name, parent, platform, POSTGRES_PORT)
    subnets = aws.rds.SubnetGroup(
        name,
        aws.rds.SubnetGroupArgs(subnet_ids=platform.private_subnet_ids),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    instance = aws.rds.Instance(
        name,
        aws.rds.InstanceArgs(
            engine="postgres",
            engine_version=settings.engine_version,
            instance_class=settings.instance_class,
            allocated_storage=settings.storage_gb,
            max_allocated_storage=settings.storage_gb * 4,  # storage autoscaling instead of a full disk
            storage_type="gp3",
            storage_encrypted=True,
            db_name=settings.database,
            username=settings.user,
            password=password,
            port=POSTGRES_PORT,
            multi_az=True,
            publicly_accessible=False,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[firewall.id],
            backup_retention_period=BACKUP_DAYS,
            copy_tags_to_snapshot=True,
            deletion_protection=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{name}-final",
            auto_minor_version_upgrade=True,
        ),
        opts=pulumi.ResourceOptions(parent=parent, protect=True),
    )
    return instance.address


def managed_redis(
    name: str, parent: pulumi.Resource, platform: Platform, settings: RedisConfig, auth_token: pulumi.Input[str]
) -> pulumi.Output[str]:
    """ElastiCache with cluster mode disabled: one shard (a primary and a replica in another zone), so a
    plain PUBLISH reaches every subscriber, which the WebSocket broadcast relies on. Returns the primary's
    host; clients connect with TLS (`rediss://`) and the auth token."""
    firewall = _admit_nodes(name, parent, platform, REDIS_PORT)
    subnets = aws.elasticache.SubnetGroup(
        name,
        aws.elasticache.SubnetGroupArgs(subnet_ids=platform.private_subnet_ids),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    group = aws.elasticache.ReplicationGroup(
        name,
        aws.elasticache.ReplicationGroupArgs(
            description="BRAiN Core shared state and WebSocket broadcast (pub/sub)",
            engine=settings.engine,
            engine_version=settings.engine_version,
            node_type=settings.node_type,
            port=REDIS_PORT,
            cluster_mode="disabled",
            num_cache_clusters=2,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            transit_encryption_enabled=True,
            at_rest_encryption_enabled=True,
            auth_token=auth_token,
            subnet_group_name=subnets.name,
            security_group_ids=[firewall.id],
            snapshot_retention_limit=BACKUP_DAYS,
            final_snapshot_identifier=f"{name}-final",
        ),
        opts=pulumi.ResourceOptions(parent=parent, protect=True),
    )
    return group.primary_endpoint_address
