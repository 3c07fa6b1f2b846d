"""Staff: the register of officers, counter staff and administrators, and who a staff sign-in is."""
