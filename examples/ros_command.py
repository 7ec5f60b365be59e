"""Send one operator command to a running ministral_node and print its decision (rclpy).

    ros2 launch ministral_node ministral.launch.py namespace:=drone1      # the node
    python3 examples/ros_command.py "take off to 10 m" --ros-args -r __ns:=/drone1
"""

import json
import sys
import time

import rclpy
from rclpy.node import Node
from rclpy.utilities import remove_ros_args
from std_msgs.msg import String


class CommandClient(Node):
    """Publishes one command on ~/command and keeps the decision that answers it."""

    def __init__(self) -> None:
        super().__init__('command_client')
        self.text, self.decision = '', None
        # ~/decision is reliable and volatile: subscribe before the command goes out.
        self.answers = self.create_subscription(String, 'ministral_node/decision',
                                                self.on_decision, 10)
        self.commands = self.create_publisher(String, 'ministral_node/command', 10)

    def on_decision(self, msg: String) -> None:
        decision = json.loads(msg.data)
        if (decision.get('command') or {}).get('text') == self.text:  # not a failsafe's
            self.decision = decision

    def spin_until(self, done, timeout_s: float) -> bool:
        end = time.monotonic() + timeout_s
        while not done() and time.monotonic() < end:
            rclpy.spin_once(self, timeout_sec=0.1)
        return done()

    def ask(self, text: str) -> dict | None:
        """Wait until the node is matched both ways, send `text`, wait for its decision."""
        if not self.spin_until(lambda: self.commands.get_subscription_count() > 0
                               and self.answers.get_publisher_count() > 0, 10.0):
            return None
        self.text = text
        self.commands.publish(String(data=text))
        self.spin_until(lambda: self.decision is not None, 30.0)
        return self.decision


if __name__ == '__main__':
    rclpy.init()
    args = remove_ros_args(sys.argv)[1:]
    client = CommandClient()
    decision = client.ask(args[0] if args else 'take off to 10 m')
    client.destroy_node()
    rclpy.shutdown()
    print(json.dumps(decision, ensure_ascii=False) if decision
          else 'no decision: is the node active in this namespace and ROS_DOMAIN_ID?')
    sys.exit(0 if decision else 1)
