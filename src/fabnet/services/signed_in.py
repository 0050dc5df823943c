"""What a signed-in caller is, shared by the API's `Principal` and the dashboard's
`WebUser`: their name, role and (for a site manager) sites, read from their account."""

from __future__ import annotations

from fabnet.store import Role, User


def limited_to(user: User) -> frozenset[str] | None:
    """The sites `user` is limited to: a site manager's own; None (every site) otherwise."""
    return frozenset(user.sites) if user.role is Role.SITE_MANAGER else None


class SignedIn:
    """A caller with an account (`user`): its name, role and the sites it is limited to."""

    user: User

    @property
    def name(self) -> str:
        """The user's name."""
        return self.user.name

    @property
    def role(self) -> Role:
        """The user's role."""
        return self.user.role

    @property
    def sites(self) -> frozenset[str] | None:
        """The sites a site manager is limited to; None for every other role."""
        return limited_to(self.user)
