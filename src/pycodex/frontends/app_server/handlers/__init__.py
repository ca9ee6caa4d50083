"""The app-server's methods, one module per concept. :func:`method_table` lists them."""
