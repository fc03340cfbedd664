"""The BigQuery clients, built from a Config: which endpoint, which credentials.

AnonymousCredentials only for custom (emulator) endpoints when asked; otherwise Application
Default Credentials. Credentials are resolved here and never stored in a Config.
"""

from __future__ import annotations

from fsengine import __version__
from fsengine.config import Config
from fsengine.errors import ConfigError

SCOPES = ("https://www.googleapis.com/auth/bigquery", "https://www.googleapis.com/auth/cloud-platform")


def _client_info():
    from google.api_core.client_info import ClientInfo

    return ClientInfo(user_agent=f"fsengine/{__version__}")


def credentials(config: Config, for_endpoint: str | None):
    """AnonymousCredentials for a custom endpoint when asked, else Application Default Credentials."""
    if config.anonymous:
        if for_endpoint is None:
            raise ConfigError(
                "--anonymous needs a custom endpoint for every API used: this call would reach BigQuery "
                "itself (set both --api-endpoint and --storage-endpoint)"
            )
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        creds, _ = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError:
        raise ConfigError(
            "no Google Application Default Credentials found: run `gcloud auth application-default login` "
            "or set GOOGLE_APPLICATION_CREDENTIALS (for an emulator use --anonymous with its endpoints)"
        ) from None
    return creds


def bigquery_client(config: Config):
    """A google.cloud.bigquery.Client for the configured project and REST endpoint."""
    from google.api_core.client_options import ClientOptions
    from google.cloud import bigquery

    options = ClientOptions(api_endpoint=config.api_endpoint) if config.api_endpoint else None
    return bigquery.Client(
        project=config.project,
        credentials=credentials(config, config.api_endpoint),
        location=config.location,
        client_options=options,
        client_info=_client_info(),
    )


def read_client(config: Config, interceptors: list | tuple = ()):
    """A BigQueryReadClient: over TLS to Google, or plain text to a loopback storage endpoint.

    `interceptors` are gRPC client interceptors added to the channel (e.g. for tracing).
    """
    import grpc
    from google.cloud.bigquery_storage_v1 import BigQueryReadClient
    from google.cloud.bigquery_storage_v1.services.big_query_read.transports import BigQueryReadGrpcTransport

    options = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
    if config.storage_endpoint:
        creds = credentials(config, config.storage_endpoint)
        del creds  # a plain-text loopback channel carries no credentials; resolved only to fail early
        channel = grpc.insecure_channel(config.storage_endpoint, options=options)
    else:
        creds = credentials(config, None)
        channel = BigQueryReadGrpcTransport.create_channel(
            "bigquerystorage.googleapis.com:443", credentials=creds, options=options, scopes=list(SCOPES)
        )
    if interceptors:
        channel = grpc.intercept_channel(channel, *interceptors)
    return BigQueryReadClient(transport=BigQueryReadGrpcTransport(channel=channel), client_info=_client_info())
