"""`case` with the imperative API: no `with Flow`, tasks added by hand (Prefect 1's idiom)."""

from weir import Flow, Task, case


class CheckCondition(Task):
    def run(self):
        return True


class ActionIfTrue(Task):
    def run(self):
        return "I am true!"


class ActionIfFalse(Task):
    def run(self):
        return "I am false!"


class AnotherAction(Task):
    def run(self, val):
        print(val)


flow = Flow("conditional-branches")
check = CheckCondition()
flow.add_task(check)

with case(check, True):
    val = ActionIfTrue()
    flow.add_task(val)
    AnotherAction().bind(val=val, flow=flow)

with case(check, False):
    other = ActionIfFalse()
    flow.add_task(other)
    AnotherAction().bind(val=other, flow=flow)

state = flow.run()
print(type(state.result[val]).__name__, type(state.result[other]).__name__)
