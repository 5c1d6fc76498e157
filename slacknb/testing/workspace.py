"""The workspace a local Slack server pretends to be: tokens, channels and users.

Plain mutable dataclasses, so a test can revoke a token, archive a channel or drop
a scope while the server runs (do it under ``server.lock`` when changing several
fields that must change together).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ALL_SCOPES", "APP_ID", "APP_SCOPES", "BOT_ID", "BOT_USER_ID", "Channel", "DEFAULT_APP_TOKEN",
    "DEFAULT_CHANNEL_ID", "DEFAULT_TOKEN", "FILLER_USERS", "TokenInfo", "User", "Workspace"
]

DEFAULT_TOKEN = "xoxb-local-slacknb-token"
# An app-level token (Socket Mode): a local fake, like the bot token.
DEFAULT_APP_TOKEN = "xapp-1-local-slacknb-app-token"
APP_ID = "A0LOCAL"
APP_SCOPES: tuple[str, ...] = ("connections:write",)
DEFAULT_CHANNEL_ID = "C0TRAINING"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"

ALL_SCOPES: tuple[str, ...] = (
    "chat:write",
    "chat:write.public",
    "channels:join",
    "users:read",
    "users:read.email",
    "files:write",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
)

# Enough filler users that users.list needs several pages at its default page
# size of 100, so pagination is really exercised.
FILLER_USERS = 250


@dataclass
class TokenInfo:
    """What the server knows about one token (the token itself is the dict key).

    ``kind`` is ``"bot"`` (``xoxb-``: the Web API) or ``"app"`` (``xapp-``: only
    apps.connections.open, for Socket Mode); using one where the other belongs is
    Slack's ``not_allowed_token_type``.
    """

    scopes: tuple[str, ...] = ALL_SCOPES
    user_id: str = BOT_USER_ID
    bot_id: str | None = BOT_ID
    revoked: bool = False
    expired: bool = False
    inactive: bool = False
    kind: str = "bot"


@dataclass
class Channel:
    """A conversation. ``members`` holds user IDs; the bot posts freely where it is one."""

    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    members: set[str] = field(default_factory=lambda: {BOT_USER_ID})


@dataclass
class User:
    """A workspace member as users.list and users.lookupByEmail show it."""

    id: str
    name: str
    real_name: str = ""
    display_name: str = ""
    email: str = ""
    deleted: bool = False
    is_bot: bool = False


@dataclass(repr=False)
class Workspace:
    """Tokens, channels and users of one team."""

    team_id: str = "T0LOCAL"
    team: str = "slacknb-local"
    tokens: dict[str, TokenInfo] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    users: list[User] = field(default_factory=list)

    def __repr__(self) -> str:
        # Tokens are the keys of ``tokens``: a repr must never show them.
        return (
            f"Workspace(team_id={self.team_id!r}, team={self.team!r}, "
            f"tokens=<{len(self.tokens)} hidden>, channels={sorted(self.channels)!r}, "
            f"users=<{len(self.users)}>)"
        )

    @classmethod
    def default(cls) -> Workspace:
        """One all-scopes bot token, one app-level token, three channels and a few hundred users.

        - ``C0TRAINING`` "training": public; the bot, alice and bob are members (the default target).
        - ``C0PRIVATE`` "secret": private, the bot is not a member.
        - ``C0PUBLIC2`` "random": public, the bot is not a member.
        - users ``U0BOT`` (the bot), ``U0ALICE``, ``U0BOB`` and filler ``user000``...
        """
        channels = [
            Channel(DEFAULT_CHANNEL_ID, "training", members={BOT_USER_ID, "U0ALICE", "U0BOB"}),
            Channel("C0PRIVATE", "secret", is_private=True, members={"U0ALICE"}),
            Channel("C0PUBLIC2", "random", members={"U0ALICE", "U0BOB"}),
        ]
        users = [
            User(BOT_USER_ID, "slacknb", real_name="slacknb", display_name="slacknb", is_bot=True),
            User("U0ALICE", "alice", real_name="Alice Example", display_name="alice",
                 email="alice@example.com"),
            User("U0BOB", "bob", real_name="Bob Example", display_name="bob", email="bob@example.com"),
        ]
        users += [
            User(f"U1{i:06d}", f"user{i:03d}", real_name=f"User {i:03d}", display_name=f"user{i:03d}",
                 email=f"user{i:03d}@example.com")
            for i in range(FILLER_USERS)
        ]
        return cls(
            tokens={
                DEFAULT_TOKEN: TokenInfo(),
                DEFAULT_APP_TOKEN: TokenInfo(scopes=APP_SCOPES, bot_id=None, kind="app"),
            },
            channels={c.id: c for c in channels},
            users=users,
        )

    def find_channel(self, ref: str, *, by_name: bool = True) -> Channel | None:
        """The channel an ID, a name or a ``#name`` refers to (IDs only if not ``by_name``)."""
        if ref in self.channels:
            return self.channels[ref]
        if not by_name:
            return None
        name = ref[1:] if ref.startswith("#") else ref
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        return None

    def find_user(self, user_id: str) -> User | None:
        """The user with this ID, if any."""
        for user in self.users:
            if user.id == user_id:
                return user
        return None
