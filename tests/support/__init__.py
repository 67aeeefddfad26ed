"""Helpers shared by the tests: real local servers, fakes behind real interfaces."""
