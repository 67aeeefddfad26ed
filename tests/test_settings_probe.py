""" "Fetch models" / "Test connection" and first-run detection against a real local HTTP server."""

from __future__ import annotations

from app.config.first_run import detect
from app.config.provider_probe import check_connection, fetch_models
from tests.support.models_server import ModelsServer, dead_url

MODELS = {"object": "list", "data": [{"id": "llama3.2"}, {"id": "qwen2.5"}, {"id": "llama3.2"}]}


async def test_openai_compatible_model_list(models_api: ModelsServer) -> None:
    models_api.routes["/v1/models"] = (200, MODELS)
    result = await fetch_models("openai", models_api.url + "/v1/", "sk-abc")
    assert result.ok
    assert result.models == ("llama3.2", "qwen2.5")
    path, headers = models_api.requests[0]
    assert path == "/v1/models"
    assert headers["authorization"] == "Bearer sk-abc"


async def test_no_key_sends_no_authorization(models_api: ModelsServer) -> None:
    models_api.routes["/v1/models"] = (200, MODELS)
    assert (await fetch_models("openai", models_api.url + "/v1")).ok
    assert "authorization" not in models_api.requests[0][1]


async def test_check_connection_summarises(models_api: ModelsServer) -> None:
    models_api.routes["/v1/models"] = (200, {"data": [{"id": "only-one"}]})
    result = await check_connection("openai", models_api.url + "/v1")
    assert result.ok
    assert (
        result.message
        == f"Connected to 127.0.0.1:{models_api.url.rsplit(':', 1)[1]}: 1 model available."
    )


async def test_rejected_key(models_api: ModelsServer) -> None:
    models_api.routes["/v1/models"] = (401, {"error": {"message": "Incorrect API key"}})
    result = await check_connection("openai", models_api.url + "/v1", "sk-wrong")
    assert result.status == "auth" and not result.ok
    assert "rejected the API key (401)" in result.message
    assert "Settings → Provider" in result.message
    assert "sk-wrong" not in result.message


async def test_unreachable_server() -> None:
    result = await check_connection("openai", dead_url(), timeout_s=2)
    assert result.status == "unreachable"
    assert "Could not connect to 127.0.0.1" in result.message


async def test_wrong_base_url_explains_v1(models_api: ModelsServer) -> None:
    result = await fetch_models("openai", models_api.url)  # forgot the /v1
    assert result.status == "not_found"
    assert "end in /v1" in result.message


async def test_not_a_model_list(models_api: ModelsServer) -> None:
    models_api.routes["/v1/models"] = (200, "<html>hello</html>")
    result = await fetch_models("openai", models_api.url + "/v1")
    assert result.status == "bad_response"


async def test_server_error(models_api: ModelsServer) -> None:
    models_api.routes["/v1/models"] = (503, {"error": "overloaded"})
    assert (await fetch_models("openai", models_api.url + "/v1")).status == "server"


async def test_anthropic_headers_and_path(models_api: ModelsServer) -> None:
    models_api.routes["/v1/models"] = (200, {"data": [{"id": "claude-x", "display_name": "X"}]})
    result = await fetch_models("anthropic", models_api.url, "ant-key")
    assert result.models == ("claude-x",)
    path, headers = models_api.requests[0]
    assert path == "/v1/models"
    assert headers["x-api-key"] == "ant-key"
    assert headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in headers


async def test_azure_headers_and_api_version(models_api: ModelsServer) -> None:
    models_api.routes["/openai/models"] = (200, {"data": [{"id": "gpt-4o"}]})
    result = await fetch_models("azure", models_api.url, "az-key", "2024-10-21")
    assert result.models == ("gpt-4o",)
    path, headers = models_api.requests[0]
    assert path == "/openai/models?api-version=2024-10-21"
    assert headers["api-key"] == "az-key"


async def test_missing_or_bad_url_is_a_config_problem() -> None:
    assert (await fetch_models("openai", "  ")).status == "config"
    assert (await fetch_models("openai", "localhost:11434/v1")).status == "config"


async def test_first_run_offers_running_servers_and_env_keys(models_api: ModelsServer) -> None:
    models_api.routes["/v1/models"] = (200, MODELS)
    offers = await detect(
        {"ANTHROPIC_API_KEY": "ant", "AZURE_OPENAI_API_KEY": "no-endpoint"},
        local_servers={"lmstudio": dead_url(), "ollama": models_api.url + "/v1"},
    )
    assert [o.preset for o in offers] == ["ollama", "anthropic"]
    ollama, anthropic = offers
    assert ollama.base_url == models_api.url + "/v1"
    assert ollama.models == ("llama3.2", "qwen2.5")
    assert ollama.label.startswith("Ollama at 127.0.0.1:") and ollama.label.endswith("(2 models)")
    assert (anthropic.kind, anthropic.api_key_env) == ("anthropic", "ANTHROPIC_API_KEY")
    assert anthropic.base_url == "https://api.anthropic.com"


async def test_first_run_with_nothing_found() -> None:
    assert await detect({}, local_servers={"ollama": dead_url()}) == []
