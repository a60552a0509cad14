"""What operators deploy with must match the code: every YAML file parses, and every queue,
setting, port and name a manifest or unit refers to exists."""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from tests.support.processes import TEST_PREFIX, derived_prefix
from tests.support.system import PACKAGE_SOURCES
from transcoder.records import redis_keys
from transcoder.settings import Settings

INFRA = Path(__file__).resolve().parents[2] / "infra"
K8S = INFRA / "k8s"
SETTINGS = {f"TRANSCODER_{f.name.upper()}" for f in fields(Settings)}
#: Read by infra/run.sh itself, not by the Python code.
SCRIPT_ONLY: set[str] = set()
WEB_PORT = 8000


def yaml_files() -> list[Path]:
    return sorted(INFRA.rglob("*.yml")) + sorted(INFRA.rglob("*.yaml"))


def k8s_objects() -> list[dict]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def by_kind(kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in k8s_objects() if o.get("kind") == kind}


def containers(obj: dict) -> list[dict]:
    return obj["spec"]["template"]["spec"]["containers"]


def queues_in(command: list[str] | str) -> list[list[str]]:
    argv = shlex.split(command) if isinstance(command, str) else command
    return [argv[i + 1].split(",") for i, a in enumerate(argv) if a in ("-Q", "--queues")]


def test_there_is_something_to_check():
    names = {p.relative_to(INFRA).as_posix() for p in yaml_files()}
    assert {
        "docker-compose.yml",
        "k8s/web.yaml",
        "k8s/worker.yaml",
        "k8s/redis.yaml",
        "k8s/keda.yaml",
    } <= names


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: p.relative_to(INFRA).as_posix())
def test_every_yaml_file_parses(path):
    assert [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_every_setting_named_in_infra_exists():
    named = set()
    for path in INFRA.rglob("*"):
        if path.is_file():
            named |= set(re.findall(r"\bTRANSCODER_[A-Z0-9_]+", path.read_text()))
    assert named, "infra names no settings at all?"
    assert named - SETTINGS - SCRIPT_ONLY == set()


def test_every_queue_named_in_infra_exists():
    commands = [c["command"] for d in by_kind("Deployment").values() for c in containers(d)]
    compose = yaml.safe_load((INFRA / "docker-compose.yml").read_text())
    commands += [s["command"] for s in compose["services"].values() if "command" in s]
    for unit in (INFRA / "systemd").glob("*.service"):
        commands.append(_unit(unit)["Service"]["ExecStart"])
    named = [q for command in commands for group in queues_in(command) for q in group]
    assert named and set(named) <= set(redis_keys.QUEUES)
    worker = by_kind("Deployment")["worker"]
    assert queues_in(containers(worker)[0]["command"]) == [list(redis_keys.QUEUES)]


def test_keda_scales_the_worker_on_the_parts_list_like_the_autoscaler():
    scaled = by_kind("ScaledObject")["worker"]
    assert scaled["spec"]["scaleTargetRef"]["name"] in by_kind("Deployment")
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    database = trigger["metadata"]["databaseIndex"]
    redis_keys.use(derived_prefix(f"redis://redis/{database}"))
    assert trigger["metadata"]["listName"] == redis_keys.queue_key(redis_keys.PARTS_QUEUE)
    redis_keys.use(TEST_PREFIX)
    host, port = trigger["metadata"]["address"].rsplit(":", 1)
    assert host.split(".")[0] in by_kind("Service") and int(port) == _redis_port()
    per_worker = trigger["metadata"]["listLength"]
    autoscale = shlex.split(_unit(INFRA / "systemd" / "transcoder-autoscale.service")["Service"]["ExecStart"])
    assert autoscale[autoscale.index("--per-worker") + 1] == per_worker


def test_ports_and_selectors_agree():
    web = by_kind("Deployment")["web"]
    (container,) = containers(web)
    assert container["ports"][0]["containerPort"] == WEB_PORT
    assert f"0.0.0.0:{WEB_PORT}" in container["command"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": WEB_PORT}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": WEB_PORT}
    assert web["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(WEB_PORT)
    assert by_kind("Service")["web"]["spec"]["ports"][0]["targetPort"] == WEB_PORT
    workloads = {**by_kind("Deployment"), **by_kind("StatefulSet")}
    for name, service in by_kind("Service").items():
        labels = workloads[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items(), name
    compose = yaml.safe_load((INFRA / "docker-compose.yml").read_text())
    assert compose["services"]["web"]["ports"] == [f"{WEB_PORT}:{WEB_PORT}"]
    assert f"0.0.0.0:{WEB_PORT}" in compose["services"]["web"]["command"]


def test_settings_in_manifests_are_valid_values():
    config = by_kind("ConfigMap")["transcoder-config"]["data"]
    settings = Settings.from_env(config)
    assert settings.storage == "s3" and settings.redis_url.endswith(f":{_redis_port()}/0")
    compose = yaml.safe_load((INFRA / "docker-compose.yml").read_text())
    written = {"POSTGRES_PASSWORD": "p", "MINIO_ROOT_PASSWORD": "m", "TRANSCODER_SECRET_KEY": "s"}
    environment = {k: _interpolate(v, written) for k, v in compose["x-app"]["environment"].items()}
    assert Settings.from_env(environment).storage == "s3"
    env_file = dict(
        line.split("=", 1) for line in (INFRA / "systemd" / "transcoder.env").read_text().splitlines()
        if line and not line.startswith("#")
    )  # fmt: skip
    Settings.from_env(env_file)
    for deployment in by_kind("Deployment").values():
        refs = {next(iter(r.values()))["name"] for r in containers(deployment)[0]["envFrom"]}
        assert refs == {"transcoder-config", "transcoder-secrets"}


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME:?message} and ${NAME:-default}, as `docker compose` reads them."""
    return re.sub(r"\$\{(\w+)(?::[?-]([^}]*))?\}", lambda m: env.get(m[1], m[2] or ""), value)


def test_no_secret_is_shipped_and_the_monitor_is_private():
    texts = {p.name: p.read_text() for p in [*INFRA.rglob("*.y*ml"), *INFRA.rglob("*.env")]}
    for name, text in texts.items():
        assert not re.search(r"replace-me|change-me|password: \w|secret_key: \w", text, re.I), name
    assert not by_kind("Secret"), "secrets are made from files the operator writes"
    kustomization = yaml.safe_load((INFRA / "k8s" / "kustomization.yaml").read_text())
    made = {g["name"] for g in kustomization["secretGenerator"]}
    assert made == {"transcoder-secrets", "postgres-credentials"}
    compose = yaml.safe_load((INFRA / "docker-compose.yml").read_text())
    secret = compose["x-app"]["environment"]["TRANSCODER_SECRET_KEY"]
    assert secret.startswith("${TRANSCODER_SECRET_KEY:?")
    flower = compose["services"]["flower"]
    assert flower["ports"] == ["127.0.0.1:5555:5555"]
    assert any(arg.startswith("--basic-auth=${FLOWER_BASIC_AUTH:?") for arg in flower["command"])
    for service in compose["services"].values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:") or port == f"{WEB_PORT}:{WEB_PORT}", port


def test_redis_runs_with_the_operators_config():
    conf = by_kind("ConfigMap")["redis-conf"]["data"]["redis.conf"]
    assert conf.strip() == (INFRA / "redis.conf").read_text().strip()
    assert "appendonly yes" in conf
    redis_set = by_kind("StatefulSet")["redis"]
    assert redis_set["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    compose = yaml.safe_load((INFRA / "docker-compose.yml").read_text())
    assert "./redis.conf:/usr/local/etc/redis/redis.conf:ro" in compose["services"]["redis"]["volumes"]


def test_kustomization_lists_every_manifest():
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def test_images_and_units_run_programs_the_project_installs():
    import tomllib

    project = tomllib.loads((INFRA.parent / "pyproject.toml").read_text())
    programs = {"gunicorn", "celery", *project["project"]["scripts"]}
    compose = yaml.safe_load((INFRA / "docker-compose.yml").read_text())
    assert (INFRA.parent / compose["x-app"]["build"]["context"].removeprefix("../")).is_dir()
    assert (INFRA / Path(compose["x-app"]["build"]["dockerfile"]).name).is_file()
    for unit in (INFRA / "systemd").glob("*.service"):
        service = _unit(unit)["Service"]
        assert Path(shlex.split(service["ExecStart"])[0]).name in programs, unit.name
        assert service["EnvironmentFile"] == "/etc/transcoder/transcoder.env"


def test_the_image_installs_the_wheel_built_from_the_package_sources():
    """Not `pip install .` from a copied tree: the wheel is what the packaging test serves from."""
    stages = re.split(r"(?m)^FROM ", (INFRA / "Dockerfile").read_text())[1:]
    assert len(stages) == 2, "a wheel-building stage, then the runtime stage"
    build, runtime = stages
    copied = {name for line in re.findall(r"(?m)^COPY (.+)$", build) for name in shlex.split(line)[:-1]}
    assert copied == set(PACKAGE_SOURCES)
    assert re.search(r"(?m)^RUN pip wheel .*--no-deps .*--wheel-dir /wheels \.$", build)
    assert "COPY --from=wheel /wheels /wheels" in runtime
    # The wheel, with SQS's extra only where it is asked for, by the name pyproject.toml gives it.
    assert 'wheel="$(ls /wheels/*.whl)" && pip install --no-cache-dir "$wheel${EXTRAS:+[$EXTRAS]}"' in runtime
    assert 'ARG EXTRAS=""' in runtime
    assert (
        "sqs"
        in tomllib.loads((INFRA.parent / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    assert "pip install ." not in runtime and "COPY transcoder" not in runtime


def _redis_port() -> int:
    return by_kind("Service")["redis"]["spec"]["ports"][0]["port"]


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def overlay_trigger(overlay: Path, patch_name: str) -> tuple[dict, dict]:
    """An overlay of the base manifests lists every file it holds and patches the base's
    ScaledObject with one trigger: (that trigger, the base's Redis trigger)."""
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    assert kustomization["resources"][0] == "../.."
    listed = {*kustomization["resources"][1:], *(p["path"] for p in kustomization["patches"])}
    assert listed == {p.name for p in overlay.glob("*.yaml")} - {"kustomization.yaml"}
    patch = yaml.safe_load((overlay / patch_name).read_text())
    base = by_kind("ScaledObject")["worker"]
    assert (patch["kind"], patch["metadata"]["name"]) == (base["kind"], base["metadata"]["name"])
    (trigger,) = patch["spec"]["triggers"]
    (redis_trigger,) = base["spec"]["triggers"]
    return trigger, redis_trigger


def test_the_rabbitmq_overlay_scales_the_same_worker_on_the_parts_queue_by_the_same_rule():
    overlay = K8S / "overlays" / "rabbitmq"
    trigger, redis_trigger = overlay_trigger(overlay, "keda-rabbitmq.yaml")
    assert trigger["type"] == "rabbitmq" and trigger["metadata"]["queueName"] == redis_keys.PARTS_QUEUE
    assert trigger["metadata"]["value"] == redis_trigger["metadata"]["listLength"]
    auth = yaml.safe_load((overlay / "trigger-authentication.yaml").read_text())
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    (secret,) = auth["spec"]["secretTargetRef"]
    made = {g["name"] for g in yaml.safe_load((K8S / "kustomization.yaml").read_text())["secretGenerator"]}
    assert secret["name"] in made and secret["key"] == "TRANSCODER_BROKER_URL"


def test_the_sqs_overlay_scales_the_same_worker_on_the_parts_queue_by_the_same_rule():
    overlay = K8S / "overlays" / "sqs"
    trigger, redis_trigger = overlay_trigger(overlay, "keda-sqs.yaml")
    config = yaml.safe_load((overlay / "config-sqs.yaml").read_text())
    assert config["metadata"]["name"] == by_kind("ConfigMap")["transcoder-config"]["metadata"]["name"]
    settings = Settings.from_env({k: str(v) for k, v in config["data"].items()})
    assert settings.broker_url == "sqs://"
    # The queue the workers make: the installation's prefix, then the parts queue.
    assert trigger["type"] == "aws-sqs-queue"
    assert trigger["metadata"]["queueURL"] == settings.sqs_queue_prefix + redis_keys.PARTS_QUEUE
    assert trigger["metadata"]["awsRegion"] == settings.sqs_region
    assert trigger["metadata"]["queueLength"] == redis_trigger["metadata"]["listLength"]
    assert trigger["metadata"]["scaleOnInFlight"] == "false"  # waiting messages only, as on Redis
    auth = yaml.safe_load((overlay / "trigger-authentication.yaml").read_text())
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    made = {g["name"] for g in yaml.safe_load((K8S / "kustomization.yaml").read_text())["secretGenerator"]}
    keys = {(s["parameter"], s["name"], s["key"]) for s in auth["spec"]["secretTargetRef"]}
    assert keys == {
        ("awsAccessKeyID", "transcoder-secrets", "AWS_ACCESS_KEY_ID"),
        ("awsSecretAccessKey", "transcoder-secrets", "AWS_SECRET_ACCESS_KEY"),
    }
    assert {name for _, name, _ in keys} <= made
