"""The `~/command_action` action server (`ministral_interfaces/action/Command`): an operator
command as a goal, decided through the same loop as `~/command`, its decision as the result.

Every goal is accepted and answered exactly once, like a command on the topic: ROS's goal
rejection carries no reason, so a goal the node cannot decide (unconfigured, inactive,
refused) ends ABORTED with the `reject` decision that says why, as `~/decision` publishes it.
While the decision's mission runs (`execute_missions`), its status is the feedback and the goal
ends with the mission: SUCCEEDED when it completed, ABORTED when it was aborted or preempted. The
result carries the mission's last status as well: feedback and result travel on different DDS
channels, and an rclpy client drops feedback that arrives after the result. Cancelling the goal
says "stop" to the loop, exactly what an operator's stop does (a reflex: published on `~/decision`,
it preempts the mission); the goal then ends CANCELED.

Goals wait in their own reentrant callback group, one executor thread each.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup

from ministral_node.core.decision_loop import unconfigured_refusal
from ministral_node.decision import Decision
from ministral_node.mission.executor import NOT_EXECUTED
from ministral_node.ros import typed
from ministral_node.ros.interfaces_mapping import TERMINAL_MISSION_STATES

ACTION_NAME = '~/command_action'
STOP_COMMAND = 'stop'  # what a cancelled goal says to the loop
POLL_S = 0.1  # how often a waiting goal looks at its decision, its mission and a cancel
# How long a decision the executor takes may go without a status of its own before the goal
# stops following it (the executor ignored it: a failsafe runs).
MISSION_START_S = 2.0


class _Waiter:
    """A goal waiting for the decision of its command."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.decision: Decision | None = None
        self.statuses: queue.Queue[dict] = queue.Queue()  # its mission's, as published


class CommandActionServer:
    """Goals in, `DecisionLoop.command` through `node.loop`, decisions out (see module)."""

    def __init__(self, node: Any, msg: ModuleType, action: ModuleType,
                 publish_decision: Callable[[Decision], None], clock: Any) -> None:
        self._node, self._msg, self._action = node, msg, action
        self._publish_decision = publish_decision
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: dict[str, _Waiter] = {}  # command id -> goal waiting for a decision
        self._following: dict[str, _Waiter] = {}  # decision id -> goal following its mission
        self._server = ActionServer(
            node, action.Command, ACTION_NAME, self._execute,
            goal_callback=lambda _goal: GoalResponse.ACCEPT,
            cancel_callback=lambda _goal: CancelResponse.ACCEPT,
            callback_group=ReentrantCallbackGroup())

    def destroy(self) -> None:
        """Answer every waiting goal's wait and destroy the server."""
        with self._lock:
            waiting, self._waiting, self._following = list(self._waiting.values()), {}, {}
        for waiter in waiting:
            waiter.done.set()
        self._server.destroy()

    def decided(self, decision: Decision) -> None:
        """Every published decision: the one a goal waits for ends its wait."""
        command_id = '' if decision.command is None else decision.command.id
        with self._lock:
            waiter = self._waiting.pop(command_id, None)
            if waiter is not None:  # before the executor takes it: no status is missed
                self._following[decision.id] = waiter
        if waiter is not None:
            waiter.decision = decision
            waiter.done.set()

    def mission(self, status: dict) -> None:
        """Every published mission status: to the goal following that decision's mission."""
        with self._lock:
            waiter = self._following.get(status.get('decision_id') or '')
        if waiter is not None:
            waiter.statuses.put(status)

    def _execute(self, goal: Any) -> Any:
        text, language = goal.request.text, goal.request.language
        hint = f' (language hint {language!r}: read from the text)' if language else ''
        self._node.get_logger().info(f'command goal {_goal_id(goal)}: {text[:80]!r}{hint}')
        decision = self._decide(goal, text)
        try:
            last = self._follow(goal, decision) if decision is not None else None
        finally:
            if decision is not None:
                with self._lock:
                    self._following.pop(decision.id, None)
        result = self._msg_result(decision, last)
        state = '' if last is None else last['state']
        if goal.is_cancel_requested:
            goal.canceled()
        elif decision is None or decision.action == 'reject' or state in ('aborted',
                                                                             'preempted'):
            goal.abort()
        else:
            goal.succeed()
        return result

    def _msg_result(self, decision: Decision | None, mission: dict | None) -> Any:
        result = self._action.Command.Result()
        if decision is not None:
            result.decision = typed.decision_message(self._msg, decision)
        if mission is not None:
            result.mission = typed.mission_status_message(self._msg, mission)
        return result

    def _decide(self, goal: Any, text: str) -> Decision | None:
        """The goal's decision (None when the node went away before deciding)."""
        loop = self._node.loop
        if loop is None:
            decision = unconfigured_refusal(text, self._clock)
            self._publish_decision(decision)
            return decision
        command_id, waiter = str(uuid.uuid4()), _Waiter()
        with self._lock:
            self._waiting[command_id] = waiter
        loop.command(text, command_id=command_id)
        stopped = False
        while not waiter.done.wait(POLL_S):
            if not self._node.context.ok():
                return None
            stopped = stopped or self._stop_if_cancelled(goal)
        return waiter.decision

    def _follow(self, goal: Any, decision: Decision) -> dict | None:
        """Mission status as feedback until the decision's mission ends; its last status (None
        when the executor ran nothing for it)."""
        loop = self._node.loop
        with self._lock:
            waiter = self._following.get(decision.id)
        if waiter is None or loop is None or loop.executor is None \
                or decision.action in NOT_EXECUTED:
            return None
        start, last, stopped = time.monotonic(), None, False
        while self._node.context.ok() and self._node.loop is loop:
            try:
                status = waiter.statuses.get(timeout=POLL_S)
            except queue.Empty:
                if last is None and time.monotonic() - start > MISSION_START_S:
                    return None
                stopped = stopped or self._stop_if_cancelled(goal)
                continue
            key = {k: v for k, v in status.items() if k != 'stamp'}
            if key != last:
                last = key
                self._feedback(goal, status)
            if status['state'] in TERMINAL_MISSION_STATES:
                return status
        return None

    def _feedback(self, goal: Any, status: dict) -> None:
        feedback = self._action.Command.Feedback()
        feedback.mission = typed.mission_status_message(self._msg, status)
        goal.publish_feedback(feedback)

    def _stop_if_cancelled(self, goal: Any) -> bool:
        """Say "stop" to the loop once the goal's cancel is requested; whether it was."""
        if not goal.is_cancel_requested:
            return False
        loop = self._node.loop
        self._node.get_logger().info(f'command goal {_goal_id(goal)} cancelled: stop')
        if loop is not None:
            loop.command(STOP_COMMAND)
        return True


def _goal_id(goal: Any) -> str:
    return str(uuid.UUID(bytes=bytes(goal.goal_id.uuid)))[:8]
