"""Audio devices are remembered by name and found again after re-plugging."""

from __future__ import annotations

from app.config.audio_devices import Device, list_devices, match_device

DEVICES = [
    Device(0, "Built-in Microphone", 2, 0),
    Device(3, "USB Mic (hw:3,0)", 1, 0),
    Device(4, "Speakers", 0, 2),
]


def test_empty_name_is_the_default() -> None:
    assert match_device("", DEVICES).index is None
    assert match_device("", DEVICES).message is None


def test_exact_name() -> None:
    assert match_device("Built-in Microphone", DEVICES).index == 0
    assert match_device("Speakers", DEVICES, kind="output").index == 4


def test_replugged_device_on_another_card_is_found() -> None:
    found = match_device("USB Mic (hw:2,0)", DEVICES)
    assert found.index == 3 and found.message is None
    assert match_device("usb mic", DEVICES).index == 3


def test_missing_device_falls_back_with_a_message() -> None:
    found = match_device("Old Webcam", DEVICES)
    assert found.index is None
    assert (
        found.message
        == "The microphone “Old Webcam” is not connected, so the system default is used."
    )
    # A speaker name is not a microphone.
    assert match_device("Speakers", DEVICES).index is None


def test_list_devices_from_a_query_function() -> None:
    raw = [
        {
            "name": "Mic",
            "max_input_channels": 1,
            "max_output_channels": 0,
            "default_samplerate": 48000.0,
        },
        {"name": "Out", "max_input_channels": 0, "max_output_channels": 2},
    ]
    assert list_devices(lambda: raw) == [
        Device(0, "Mic", 1, 0, 48000.0),
        Device(1, "Out", 0, 2, 0.0),
    ]


def test_list_devices_failure_is_an_empty_list() -> None:
    def broken() -> list[dict[str, object]]:
        raise OSError("PortAudio library not found")

    assert list_devices(broken) == []
