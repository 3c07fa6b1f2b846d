"""An example agency back-office connected to Biz Portal through the `webhook` adapter (see `app`)."""
