-- A job instance's runs by its id (the newest first): the knowledge graph's guess of a job's latest
-- run, so a run's reads can start before the scheduler confirms which instance and run they are for.
CREATE INDEX job_runs_job_id ON job_runs (job_id, started_at DESC NULLS LAST);
