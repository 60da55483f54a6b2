"""Caching: cache_for keeps a result; a validator decides whether a later run may reuse it."""

from __future__ import annotations

import datetime

from weir import Flow, Parameter, task
from weir.engine import cache_validators

calls: list[str] = []


@task(cache_for=datetime.timedelta(hours=1))
def reference_data() -> dict[str, int]:
    calls.append("reference_data")
    return {"EUR": 1, "USD": 2}


@task(
    cache_for=datetime.timedelta(hours=1),
    cache_validator=cache_validators.all_inputs,  # reuse only for the same inputs
)
def price(code: str, table: dict[str, int]) -> int:
    calls.append(f"price({code})")
    return table[code] * 100


with Flow("prices") as flow:
    code = Parameter("code", default="EUR")
    amount = price(code, reference_data())

for code_value in ("EUR", "EUR", "USD"):
    calls.clear()
    state = flow.run(parameters={"code": code_value})
    print(
        f"code={code_value}: {state.result[amount].result:>3}  "
        f"ran {calls or 'nothing'}  price state: {state.result[amount].name}"
    )
