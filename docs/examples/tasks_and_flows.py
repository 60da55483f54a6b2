"""Tasks (a decorated function, a Task subclass), options, a flow, and what a run returns."""

from __future__ import annotations

import datetime

from weir import Flow, Parameter, Task, task


@task(max_retries=2, retry_delay=datetime.timedelta(seconds=5), tags=["io"])
def fetch(city: str) -> dict[str, float]:
    """A function task: the decorator keeps the function's signature."""
    return {"city_len": float(len(city)), "temp": 21.5}


class Fahrenheit(Task):
    """A Task subclass: options go to __init__, the work to run()."""

    def __init__(self, precision: int = 1, **kwargs):
        self.precision = precision
        super().__init__(**kwargs)

    def run(self, reading: dict[str, float]) -> float:
        return round(reading["temp"] * 9 / 5 + 32, self.precision)


to_f = Fahrenheit(name="to_fahrenheit", precision=0)

with Flow("weather") as flow:
    city = Parameter("city", default="Lisbon")
    reading = fetch(city)  # calling a task inside the block binds a copy to the flow
    degrees = to_f(reading)

print(flow)
print("tasks in order:", [t.name for t in flow.sorted_tasks()])
print("root tasks:", sorted(t.name for t in flow.root_tasks()))
print("terminal tasks:", sorted(t.name for t in flow.terminal_tasks()))
print("parameters:", [p.name for p in flow.parameters()])
print("fetch options:", reading.max_retries, reading.retry_delay, sorted(reading.tags))

state = flow.run(parameters={"city": "Oslo"})
print(state)
print("degrees:", state.result[degrees].result)
for t, s in state.result.items():
    print(f"  {t.name:<15} {s!r}")

# A task is still a plain function when called outside a flow: .run() calls it.
print("fetch.run:", fetch.run("Rome"))
