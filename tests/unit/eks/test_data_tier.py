"""Prod data tier: managed stores Multi-AZ, encrypted, private and protected; in-cluster stores on retained
volumes; Qdrant's chart; every credential generated, secret, and in no pod spec or Helm value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import ConfigError
from tools.program import ProgramRun, RegisteredResource, is_secret, mock_secret_value, reveal
from tests.support.renders import run_program

RDS = "aws:rds/instance:Instance"
ELASTICACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DIGEST = "sha256:" + "0123456789abcdef" * 4
QDRANT_CONFIGURED = [
    "data.qdrant.chart_version=1.18.3",
    "data.qdrant.image=qdrant/qdrant:v1.18.2",
    "data.qdrant.storage_gb=30",
    "data.qdrant.resources={cpu: 1500m, memory: 4Gi}",
]
MANAGED_CONFIGURED = [
    "data.mode=managed",
    "data.postgres.engine_version='16'",
    "data.postgres.instance_class=db.r7g.large",
    "data.postgres.storage_gb=100",
    "data.postgres.database=brain_core",
    "data.postgres.user=core",
    *QDRANT_CONFIGURED,
]
IN_CLUSTER_CONFIGURED = [
    "data.mode=in_cluster",
    "data.postgres.storage_gb=40",
    "data.postgres.database=vectors",
    "data.postgres.user=core",
    "data.postgres.resources={cpu: 750m, memory: 2Gi}",
    f"data.postgres.image=postgres:17.7-alpine@{DIGEST}",
    "data.redis.resources={cpu: 250m, memory: 256Mi}",
    f"data.redis.image=redis:8.2.3-alpine@{DIGEST}",
    *QDRANT_CONFIGURED,
]
"""Data keys away from their defaults, per mode: the tests that follow config share one mock run per mode."""


def _one(resources: list[RegisteredResource]) -> RegisteredResource:
    assert len(resources) == 1, f"expected one, got {[resource.urn for resource in resources]}"
    return resources[0]


def test_postgres_is_multi_az_encrypted_private_and_protected() -> None:
    inputs = (postgres := _one(run_program("prod").of_type(RDS))).inputs
    assert postgres.protect, "a destroy or replacement must stop before the database"
    assert inputs["deletionProtection"] is True
    assert inputs["skipFinalSnapshot"] is False and inputs["finalSnapshotIdentifier"] == "brain-postgres-final"
    assert inputs["multiAz"] is True
    assert inputs["storageEncrypted"] is True
    assert inputs["publiclyAccessible"] is False
    assert inputs["backupRetentionPeriod"] > 0
    assert inputs["dbSubnetGroupName"] == "brain-postgres"
    assert inputs["vpcSecurityGroupIds"] == ["brain-postgres-id"]


def test_postgres_takes_engine_size_and_names_from_config() -> None:
    inputs = _one(run_program("prod", MANAGED_CONFIGURED).of_type(RDS)).inputs
    assert (inputs["engine"], inputs["engineVersion"], inputs["instanceClass"]) == ("postgres", "16", "db.r7g.large")
    assert (inputs["allocatedStorage"], inputs["dbName"], inputs["username"]) == (100, "brain_core", "core")


def test_postgres_pins_the_major_version_and_takes_minor_upgrades_from_rds() -> None:
    inputs = _one(run_program("prod").of_type(RDS)).inputs
    assert inputs["autoMinorVersionUpgrade"] is True
    assert inputs["engineVersion"].isdigit(), (
        f"engineVersion {inputs['engineVersion']!r} pins a minor: once RDS upgrades it, `pulumi up` plans a refused downgrade"
    )


@pytest.mark.parametrize("version", ["17.7", "17.x", "seventeen"])
def test_postgres_minor_pin_is_rejected_before_any_resource(version: str) -> None:
    registered: list[RegisteredResource] = []
    with pytest.raises(ConfigError) as raised:
        run_program("prod", [f"data.postgres.engine_version='{version}'"], registered=registered)
    assert f"brain:data.postgres.engine_version = '{version}'" in str(raised.value), str(raised.value)
    assert "major version" in str(raised.value), str(raised.value)
    assert registered == [], [resource.name for resource in registered]


def test_redis_is_one_shard_multi_az_with_tls_and_auth_token() -> None:
    inputs = (redis := _one(run_program("prod").of_type(ELASTICACHE))).inputs
    assert redis.protect
    assert inputs["clusterMode"] == "disabled", "pub/sub must reach every subscriber: one shard"
    assert inputs["numCacheClusters"] >= 2
    assert inputs["automaticFailoverEnabled"] is True and inputs["multiAzEnabled"] is True
    assert inputs["transitEncryptionEnabled"] is True and inputs["atRestEncryptionEnabled"] is True
    assert (inputs["engine"], inputs["engineVersion"]) == ("valkey", "8.1")
    assert inputs["finalSnapshotIdentifier"] == "brain-redis-final"
    assert inputs["subnetGroupName"] == "brain-redis"
    assert inputs["securityGroupIds"] == ["brain-redis-id"]


def test_stores_admit_only_their_port_from_the_cluster_nodes() -> None:
    groups = {group.name: group.inputs for group in run_program("prod").of_type(SECURITY_GROUP)}
    for name, port in (("brain-postgres", 5432), ("brain-redis", 6379)):
        assert groups[name]["ingress"] == [
            {"protocol": "tcp", "fromPort": port, "toPort": port, "securityGroups": ["sg-brain-cluster"]}
        ], f"{name} must admit port {port} from the node security group only, got {groups[name]['ingress']}"
        assert "cidrBlocks" not in json.dumps(groups[name]), f"{name} admits address ranges"


def test_managed_credentials_are_generated_and_secret() -> None:
    run = run_program("prod")
    password = _one(run.of_type(RDS)).inputs["password"]
    token = _one(run.of_type(ELASTICACHE)).inputs["authToken"]
    assert is_secret(password) and reveal(password) == mock_secret_value("brain-postgres-password")
    assert is_secret(token) and reveal(token) == mock_secret_value("brain-redis-password")


def test_managed_urls_use_tls_and_the_service_endpoints() -> None:
    outputs = run_program("prod").outputs
    password, token = mock_secret_value("brain-postgres-password"), mock_secret_value("brain-redis-password")
    assert reveal(outputs["database_url"]) == (
        f"postgresql://brain:{password}@brain-postgres.mock.rds.amazonaws.com:5432/brain?sslmode=require"
    )
    assert reveal(outputs["redis_url"]) == f"rediss://:{token}@master.brain-redis.mock.cache.amazonaws.com:6379/0"


def test_in_cluster_stores_are_stateful_sets_on_retained_volumes() -> None:
    run = run_program("prod", IN_CLUSTER_CONFIGURED)
    assert run.of_type(RDS) == [] and run.of_type(ELASTICACHE) == [] and run.of_type(SECURITY_GROUP) == []
    stores = {store.inputs["metadata"]["name"]: store for store in run.of_type(STATEFUL_SET)}
    assert set(stores) == {"postgres", "redis"}
    for name, store in stores.items():
        spec = store.inputs["spec"]
        assert store.protect, f"{name}: a replacement would start on an empty volume"
        assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
        (claim,) = spec["volumeClaimTemplates"]
        assert claim["spec"]["storageClassName"] == "gp3-retain"
    assert stores["postgres"].inputs["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"] == {"storage": "40Gi"}
    outputs = run.outputs
    assert reveal(outputs["database_url"]).endswith("@postgres.brain.svc.cluster.local:5432/vectors")
    assert reveal(outputs["redis_url"]).startswith("redis://:") and "@redis.brain.svc.cluster.local:6379" in reveal(
        outputs["redis_url"]
    )


@pytest.fixture(scope="module")
def in_cluster() -> ProgramRun:
    return run_program("prod", ["data.mode=in_cluster"])


def test_in_cluster_passwords_come_from_the_secret_not_the_pod_spec(in_cluster: ProgramRun) -> None:
    run = in_cluster
    for store in run.of_type(STATEFUL_SET):
        assert "MOCK-SECRET" not in json.dumps(reveal(store.inputs)), f"{store.name} carries a credential in its spec"
    credentials = run.named("brain-data-credentials").inputs["stringData"]
    assert is_secret(credentials)
    values = reveal(credentials)
    assert set(values) == {"postgres-password", "redis-password", "redis.conf", "qdrant-api-key"}
    assert values["redis.conf"] == f"requirepass {values['redis-password']}\n"


@pytest.mark.parametrize(
    ("store", "files"), [("postgres", ["postgres-password"]), ("redis", ["redis-password", "redis.conf"])]
)
def test_in_cluster_stores_read_passwords_from_files(in_cluster: ProgramRun, store: str, files: list[str]) -> None:
    """Secret files readable by the store's group, not env vars (inherited by every child) or arguments (in
    the process list)."""
    pod = _store_pod(in_cluster, store)
    (volume,) = [volume for volume in pod["volumes"] if "secret" in volume]
    assert volume["secret"]["secretName"] == "brain-data-credentials"
    assert [item["key"] for item in volume["secret"]["items"]] == files
    assert volume["secret"]["defaultMode"] == 0o440
    (container,) = pod["containers"]
    (mount,) = [mount for mount in container["volumeMounts"] if mount["name"] == volume["name"]]
    assert mount["readOnly"] is True
    paths = {f"{mount['mountPath']}/{item['path']}" for item in volume["secret"]["items"]}
    text = json.dumps({key: container.get(key) for key in ("command", "args", "env")})
    assert "valueFrom" not in text and "secretKeyRef" not in text, f"{store} reads a secret from its env: {text}"
    read = {path for path in paths if path in text}
    assert read, f"{store} reads none of {paths}: {text}"


def test_managed_passwords_stay_out_of_the_cluster() -> None:
    credentials = run_program("prod").named("brain-data-credentials").inputs["stringData"]
    assert set(reveal(credentials)) == {"qdrant-api-key"}


@pytest.mark.parametrize("configured", [MANAGED_CONFIGURED, IN_CLUSTER_CONFIGURED], ids=["managed", "in_cluster"])
def test_qdrant_comes_from_its_chart_protected_with_the_key_from_a_secret(configured: list[str]) -> None:
    run = run_program("prod", configured)
    qdrant = run.named("brain-qdrant")
    inputs = qdrant.inputs
    assert qdrant.protect
    assert (inputs["chart"], inputs["version"]) == ("qdrant", "1.18.3")
    assert inputs["repositoryOpts"]["repo"] == "https://qdrant.github.io/qdrant-helm"
    values = inputs["values"]
    assert not is_secret(values) and "MOCK-SECRET" not in json.dumps(reveal(values)), "the key must not be a value"
    assert values["image"]["repository"] == "qdrant/qdrant" and values["image"]["tag"] == "v1.18.2", values["image"]
    storage = {"size": "30Gi", "storageClassName": "gp3-retain"}
    assert values["persistence"] == storage
    assert values["snapshotPersistence"] == {"enabled": True, **storage}, "snapshots need a volume as large as the data"
    assert values["env"] == [
        {
            "name": "QDRANT__SERVICE__API_KEY",
            "valueFrom": {"secretKeyRef": {"name": "brain-data-credentials", "key": "qdrant-api-key"}},
        }
    ]
    assert reveal(run.outputs["qdrant_api_key"]) == mock_secret_value("brain-qdrant-api-key")


def test_qdrant_requests_and_limits_come_from_config() -> None:
    run = run_program("prod", MANAGED_CONFIGURED)
    values = run.named("brain-qdrant").inputs["values"]
    quantity = {"cpu": "1500m", "memory": "4Gi"}
    assert values["resources"] == {"requests": quantity, "limits": quantity}


def test_qdrant_has_a_disruption_budget_that_never_blocks_a_drain() -> None:
    """One replica: `minAvailable: 1` would stop every node drain and scale-down for good."""
    budget = run_program("prod").named("brain-qdrant").inputs["values"]["podDisruptionBudget"]
    assert budget == {"enabled": True, "maxUnavailable": 1}, budget


def _store_pod(run: ProgramRun, store: str) -> dict[str, Any]:
    (statefulset,) = [item for item in run.of_type(STATEFUL_SET) if item.inputs["metadata"]["name"] == store]
    return statefulset.inputs["spec"]["template"]["spec"]


def _store_container(run: ProgramRun, store: str) -> dict[str, Any]:
    (container,) = _store_pod(run, store)["containers"]
    return container


def _probes(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {kind: container[f"{kind}Probe"] for kind in ("startup", "readiness", "liveness")}


STORE_PROBE_TIMINGS = {
    # Up to 5 minutes to answer at all (initdb and init scripts on a fresh volume, crash recovery, AOF load);
    # liveness waits for it, so a slow first start is never killed half-way.
    "startup": {"periodSeconds": 5, "timeoutSeconds": 5, "failureThreshold": 60},
    # Out of the Service within 15 s of not answering.
    "readiness": {"periodSeconds": 5, "timeoutSeconds": 5, "failureThreshold": 3},
    # Restarted after a minute without an answer, not for one slow checkpoint.
    "liveness": {"periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 6},
}


def test_postgres_is_probed_over_tcp_as_clients_connect() -> None:
    """Over the Unix socket, pg_isready answers from the server the image runs for its init scripts on a
    fresh volume, before the real one listens (docker-library/postgres#880): every probe goes over TCP."""
    container = _store_container(run_program("prod", IN_CLUSTER_CONFIGURED), "postgres")
    expected = ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", "core", "-d", "vectors", "-t", "3"]
    for kind, probe in _probes(container).items():
        assert probe["exec"] == {"command": expected}, f"postgres {kind} probe: {probe}"
        timings = {key: value for key, value in probe.items() if key != "exec"}
        assert timings == STORE_PROBE_TIMINGS[kind], f"postgres {kind} probe timings: {timings}"
    timeout = int(expected[expected.index("-t") + 1])
    assert timeout < STORE_PROBE_TIMINGS["readiness"]["timeoutSeconds"], "pg_isready must time out before its probe"


def test_redis_is_probed_with_its_password_over_tcp(in_cluster: ProgramRun) -> None:
    container = _store_container(in_cluster, "redis")
    auth = 'REDISCLI_AUTH="$(cat /run/secrets/brain/redis-password)"'
    expected = ["sh", "-c", f"{auth} redis-cli -h 127.0.0.1 -p 6379 ping | grep -qx PONG"]
    for kind, probe in _probes(container).items():
        assert probe["exec"] == {"command": expected}, f"redis {kind} probe: {probe}"
        timings = {key: value for key, value in probe.items() if key != "exec"}
        assert timings == STORE_PROBE_TIMINGS[kind], f"redis {kind} probe timings: {timings}"


def test_in_cluster_store_resources_come_from_config() -> None:
    quantities = {"postgres": {"cpu": "750m", "memory": "2Gi"}, "redis": {"cpu": "250m", "memory": "256Mi"}}
    run = run_program("prod", IN_CLUSTER_CONFIGURED)
    for store, quantity in quantities.items():
        resources = _store_container(run, store)["resources"]
        assert resources == {"requests": quantity, "limits": quantity}, f"{store}: {resources}"


def test_in_cluster_stores_have_time_for_a_clean_shutdown(in_cluster: ProgramRun) -> None:
    """PostgreSQL's image stops with SIGINT (fast shutdown, then a shutdown checkpoint) and Redis saves on
    SIGTERM: Kubernetes' 30 s default may cut either short, and the next start then runs crash recovery."""
    for statefulset in in_cluster.of_type(STATEFUL_SET):
        grace = statefulset.inputs["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace == 60, f"{statefulset.name}: terminationGracePeriodSeconds {grace}"


def test_in_cluster_images_may_be_pinned_by_digest() -> None:
    """A tag can be rebuilt (docker-library rebuilds on every base image update); a digest cannot."""
    images = {"postgres": f"postgres:17.7-alpine@{DIGEST}", "redis": f"redis:8.2.3-alpine@{DIGEST}"}
    run = run_program("prod", IN_CLUSTER_CONFIGURED)
    for store, image in images.items():
        assert _store_container(run, store)["image"] == image
