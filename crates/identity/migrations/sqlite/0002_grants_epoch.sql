-- The epoch of grants: moved on by every change to users' roles and districts and to roles'
-- rights, so that a server's cached copy of a user's grants is known to be stale.
INSERT INTO settings (key, value) VALUES ('grants_epoch', '0');
