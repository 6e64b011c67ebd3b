"""dlt destinations. Knows only Fincome; never imports sources/."""
