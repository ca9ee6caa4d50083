"""`pycodex.tls`: the default TLS context, built ahead on a thread and handed out once."""

from __future__ import annotations

import ssl

from pycodex import tls


def test_nothing_to_take_without_a_prewarm() -> None:
    assert tls.take_default_ssl_context() is None


def test_prewarmed_context_verifies_and_is_handed_out_once() -> None:
    tls.prewarm_default_ssl_context()
    tls.prewarm_default_ssl_context()  # a second call starts nothing new
    context = tls.take_default_ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert tls.take_default_ssl_context() is None


def test_the_model_client_prewarms_only_for_an_https_provider() -> None:
    from pycodex.client.client import ModelClient
    from pycodex.config.providers import ModelProviderInfo

    ModelClient(ModelProviderInfo(name="local", base_url="http://127.0.0.1:1/v1"), model="m", thread_id="t")
    assert tls.take_default_ssl_context() is None  # a plain-HTTP provider needs no CAs
    ModelClient(ModelProviderInfo(name="remote", base_url="https://example.invalid/v1"), model="m", thread_id="t")
    assert isinstance(tls.take_default_ssl_context(), ssl.SSLContext)
