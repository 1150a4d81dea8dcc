-- Custom SQL migration file, put your code below! --
-- Hand-written: a case's assignee is a person, the id of one of the supervisor's staff (users),
-- no longer free text. Cases assigned by login name (the demo used to write 'supervisor') take
-- the id of the supervisor user with that login; any other text stays, shown as it is.
UPDATE compliance_cases c
  SET assignee = u.id
  FROM users u
  WHERE c.assignee = u.username
    AND u.role = 'supervisor';
