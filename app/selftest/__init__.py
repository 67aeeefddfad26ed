"""``harken --self-test``: prove that this installation works (see ``runner``)."""
