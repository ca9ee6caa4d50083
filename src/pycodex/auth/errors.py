"""Errors of the auth package. Each `str()` is one line fit for the user and never
carries a secret (no token, no key, no authorization code)."""

from __future__ import annotations


class AuthError(Exception):
    """Credentials could not be obtained, refreshed, stored or used."""


class LoginFailed(AuthError):
    """A browser or device-code login did not complete."""


class WorkspaceMismatch(LoginFailed):
    """The account signed in is not the workspace `forced_chatgpt_workspace_id` names."""


class RefreshFailed(AuthError):
    """The issuer refused to refresh the ChatGPT tokens (revoked, expired, reused)."""


class LoginMethodForbidden(AuthError):
    """`forced_login_method` forbids the credential that would be used."""


class CredentialStoreError(AuthError):
    """The configured credential store cannot be used (e.g. no keyring backend)."""
