"""A local Slack-compatible server for tests and offline demos.

    from slack_sdk import WebClient
    from slacknb.testing import SlackServer

    with SlackServer() as server:
        client = WebClient(token=server.token, base_url=server.url)
        client.chat_postMessage(channel=server.channel_id, text="hello")
        assert server.messages()[0].text == "hello"
"""

from .faults import FaultHandle
from .messages import Ephemeral, Message
from .server import Ack, Call, SlackServer
from .workspace import Channel, TokenInfo, User, Workspace

__all__ = ["Ack", "Call", "Channel", "Ephemeral", "FaultHandle", "Message", "SlackServer", "TokenInfo", "User", "Workspace"]
