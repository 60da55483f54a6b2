"""weir.core.builtins: the Constant and GetItem tasks the graph makes itself."""

from __future__ import annotations

from weir import Flow, task
from weir.core.builtins import Constant, GetItem


class TestConstant:
    def test_returns_its_value_and_is_named_after_its_type(self) -> None:
        c = Constant([1, 2])
        assert c.run() == [1, 2]
        assert c.name == "Constant[list]"
        assert Constant([1], name="mine").name == "mine"

    def test_slugs_of_mapped_constants_are_the_same_in_every_build(self) -> None:
        class Thing:
            pass

        @task
        def ident(x: object) -> object:
            return x

        def build() -> list[str]:
            with Flow("f") as flow:
                ident.map([Thing(), Thing()])  # reprs carry memory addresses
                ident.map(x={"alpha", "beta", "gamma"})  # reprs follow the hash seed
            return sorted(flow.slugs.values())

        first = build()
        assert first == build()
        assert first == ["Constant[list]-1", "Constant[set]-1", "ident-1", "ident-2"]

    def test_mapped_constants_become_constant_tasks(self) -> None:
        @task
        def double(x: int) -> int:
            return 2 * x

        with Flow("f") as flow:
            d = double.map([1, 2, 3])
        (up,) = flow.upstream_tasks(d)
        assert isinstance(up, Constant) and up.value == [1, 2, 3]
        assert flow.run().result[d].result == [2, 4, 6]


class TestGetItem:
    def test_run_indexes(self) -> None:
        assert GetItem().run({"a": 1}, "a") == 1
        assert GetItem().run([5, 6], -1) == 6

    def test_name_shows_the_key(self) -> None:
        @task
        def pair() -> tuple[int, int]:
            return 1, 2

        with Flow("f"):
            item = pair()[1]
        assert item.name == "pair[1]"
