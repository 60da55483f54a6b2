"""One graph built three ways: the functional API, the imperative API, and both mixed."""

from __future__ import annotations

from weir import Flow, Parameter, task


@task
def download(url: str) -> list[str]:
    return [f"{url}#{i}" for i in range(3)]


@task
def count(lines: list[str]) -> int:
    return len(lines)


@task
def notify() -> str:
    return "sent"


# Functional: call tasks inside `with Flow(...)`; upstream_tasks adds state-only edges.
with Flow("functional") as functional:
    url = Parameter("url", default="https://example.org/data.csv")
    n = count(download(url))
    notify(upstream_tasks=[n])

# Imperative: add the tasks and their edges yourself.
imperative = Flow("imperative")
url2 = Parameter("url", default="https://example.org/data.csv")
d, c, note = download.copy(), count.copy(), notify.copy()
imperative.set_dependencies(d, keyword_tasks={"url": url2})
imperative.add_edge(d, c, key="lines")
c.set_downstream(note, flow=imperative)

# Mixed: build with calls, then add an edge by hand.
with Flow("mixed") as mixed:
    url3 = Parameter("url", default="https://example.org/data.csv")
    n3 = count(download(url3))
    last = notify()
mixed.add_edge(n3, last)


def shape(flow: Flow) -> list[tuple[str, str, str | None]]:
    return sorted((e.upstream_task.name, e.downstream_task.name, e.key) for e in flow.edges)


for f in (functional, imperative, mixed):
    state = f.run()
    print(f"{f.name:<11} {state.name:<8} {shape(f)}")
print("same graph:", shape(functional) == shape(imperative) == shape(mixed))
