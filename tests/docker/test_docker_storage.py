"""Docker storage against a real Docker-API engine: the image is built, and its flow runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir.exceptions import ConfigurationError, StorageError
from weir.registration import register_flow
from weir.storage import Docker, storage_from_dict
from weir.storage.scripts import flows_in_script

pytestmark = [pytest.mark.slow, pytest.mark.integration]

FLOWS = Path(__file__).resolve().parent / "flows.py"
BASE = "weir-test-base:latest"


def _storage(engine, **options: object) -> Docker:
    options.setdefault("base_image", BASE)
    options.setdefault("image_name", "weir-test-flows")
    return Docker(base_url=engine.base_url, **options)


def test_the_built_image_runs_its_flow_through_the_docker_agent(
    client, make_agent, drive, engine, tmp_path
):
    extra = tmp_path / "settings.txt"
    extra.write_text("from the build context\n")
    storage = _storage(engine, files={extra: "/opt/weir/settings.txt"})
    flow = flows_in_script(FLOWS)["greet"]
    registered = register_flow(flow, client=client, storage=storage, source=FLOWS)
    image = storage.image
    assert image is not None and image.startswith("weir-test-flows:")
    engine.client.images.get(image)  # the engine has it
    stored = client.get_flow(registered).storage
    assert stored["type"] == "Docker" and stored["image"] == image
    script = stored["flows"]["greet"]
    assert script.startswith("/opt/weir/flows/greet/") and script.endswith(".py")

    # The script and the extra file are in the image itself, not on a mount.
    code, output = engine.run_check(["cat", script, "/opt/weir/settings.txt"], image=image)
    assert code == 0 and 'Flow("greet")' in output and "from the build context" in output

    run = client.create_flow_run(registered, parameters={"name": "image"})
    agent = make_agent()  # no run config: the image comes from the storage
    [launched] = agent.run_once(wait=5)
    assert launched.process.image == image
    drive(agent, lambda: not agent.running)
    assert client.get_flow_run(run.id).state.type.value == "Success"
    messages = [log.message for log in client.get_logs(run.id).logs]
    assert any("hello image from" in m for m in messages), messages
    trace = {e.kind: e.data for e in client.get_trace(run.id)}
    assert trace["flow_loaded"]["storage"] == "Docker"


def test_the_same_inputs_build_the_same_tag_and_a_changed_script_a_new_one(engine, tmp_path):
    script = tmp_path / "one.py"
    script.write_text(FLOWS.read_text())
    flow = flows_in_script(script)["greet"]
    first = _storage(engine)
    first.add_flow(flow, source=script)
    again = _storage(engine)
    again.add_flow(flow, source=script)
    assert first.build().image == again.build().image
    script.write_text(FLOWS.read_text() + "\n# changed\n")
    changed = _storage(engine)
    changed.add_flow(flows_in_script(script)["greet"], source=script)
    assert changed.build().image != first.image


def test_a_failed_build_shows_the_build_logs_last_lines(engine):
    # The base image has no Python of its own (the tests mount it), so pip cannot run.
    storage = _storage(engine, python_dependencies=["requests"])
    storage.add_flow(flows_in_script(FLOWS)["greet"], source=FLOWS)
    with pytest.raises(StorageError) as caught:
        storage.build()
    message = str(caught.value)
    assert "Building the image weir-test-flows:" in message
    assert "The build's last lines:" in message and "pip" in message


def test_a_missing_base_image_is_named(engine):
    storage = _storage(engine, base_image="weir-test-no-such-base:1")
    storage.add_flow(flows_in_script(FLOWS)["greet"], source=FLOWS)
    with pytest.raises(StorageError) as caught:
        storage.build()
    assert "base image 'weir-test-no-such-base:1' is not in the engine" in str(caught.value)


def test_an_unreachable_engine_is_named_with_how_to_start_one(tmp_path):
    storage = Docker(base_image=BASE, image_name="x", base_url=f"unix://{tmp_path}/none.sock")
    storage.add_flow(flows_in_script(FLOWS)["greet"], source=FLOWS)
    with pytest.raises(ConfigurationError) as caught:
        storage.build()
    assert "none.sock" in str(caught.value) and "DOCKER_HOST" in str(caught.value)


def test_the_serialized_storage_reads_back_and_refuses_to_load_outside_its_image():
    storage = Docker(base_image=BASE, image_name="flows", registry_url="registry.example:5000/")
    storage.add_flow(flows_in_script(FLOWS)["greet"], source=FLOWS)
    assert storage.repository() == "registry.example:5000/flows"
    storage.image = "registry.example:5000/flows:abc"
    data = storage.serialize()
    back = storage_from_dict(data)
    assert isinstance(back, Docker) and back.serialize() == data
    with pytest.raises(StorageError, match="run it inside that image"):
        back.get_flow("greet")
    with pytest.raises(StorageError, match="no flow named 'other'"):
        back.get_flow("other")


def test_the_dockerfile_installs_dependencies_and_copies_files_and_scripts(tmp_path):
    extra = tmp_path / "a.cfg"
    extra.write_text("x")
    storage = Docker(
        base_image="python:3.11-slim",
        image_name="flows",
        python_dependencies=["requests==2.32.3"],
        files={extra: "/etc/a.cfg"},
    )
    path = storage.add_flow(flows_in_script(FLOWS)["greet"], source=FLOWS)
    assert storage.dockerfile_text().splitlines() == [
        "FROM python:3.11-slim",
        'RUN ["python", "-m", "pip", "install", "--no-cache-dir", "requests==2.32.3"]',
        'COPY ["files/0", "/etc/a.cfg"]',
        f'COPY ["flows/0.py", "{path}"]',
    ]


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"base_image": "a", "dockerfile": "Dockerfile"}, "not both"),
        ({"flow_path_in_image": "flows"}, "absolute path"),
    ],
)
def test_bad_options_are_refused_with_the_fix(options, problem):
    with pytest.raises(StorageError, match=problem):
        Docker(image_name="x", **options)


def test_a_storage_without_image_name_or_base_says_what_to_give():
    storage = Docker(base_image="a")
    with pytest.raises(StorageError, match="needs image_name"):
        storage.build()
    with pytest.raises(StorageError, match="needs base_image"):
        Docker(image_name="x").dockerfile_text()
