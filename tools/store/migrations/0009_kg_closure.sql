-- Closures that scale with the answer, not the graph: a breadth-first walk that expands only the
-- nodes first reached at the previous level (each node once, through the edge indexes), instead of
-- a recursive CTE that re-expands every node at every depth it is reached at.
-- Same flow as kg_flow: job -> job, a job -> its stream, a predecessor stream -> the jobs of the
-- streams that wait for it.
-- upstream walks read edges by successor: with the predecessor in the index, they never touch the table
DROP INDEX kg_edges_succ;
CREATE INDEX kg_edges_succ ON kg_edges (succ_kind, succ_id, pred_kind, pred_id);

CREATE FUNCTION kg_closure(start_id text, walk_down boolean, max_depth integer)
RETURNS TABLE (node_kind text, node_id text, node_depth integer)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    jobs text[] := ARRAY[start_id];
    streams text[] := '{}';
    seen_jobs text[] := ARRAY[start_id];
    seen_streams text[] := '{}';
    next_jobs text[];
    next_streams text[];
    level integer := 0;
BEGIN
    WHILE level < max_depth AND cardinality(jobs) + cardinality(streams) > 0 LOOP
        level := level + 1;
        IF walk_down THEN
            SELECT coalesce(array_agg(x), '{}') INTO next_streams FROM (
                SELECT j.job_stream_id FROM kg_jobs j WHERE j.id = ANY(jobs) AND j.job_stream_id IS NOT NULL
                EXCEPT SELECT unnest(seen_streams)
            ) s(x);
            SELECT coalesce(array_agg(x), '{}') INTO next_jobs FROM (
                SELECT e.succ_id FROM kg_edges e
                 WHERE e.pred_kind = 'job' AND e.succ_kind = 'job' AND e.pred_id = ANY(jobs)
                UNION
                SELECT j.id FROM kg_edges e JOIN kg_jobs j ON j.job_stream_id = e.succ_id
                 WHERE e.pred_kind = 'stream' AND e.succ_kind = 'stream'
                   AND e.pred_id = ANY(streams)
                EXCEPT SELECT unnest(seen_jobs)
            ) s(x);
        ELSE
            SELECT coalesce(array_agg(x), '{}') INTO next_streams FROM (
                SELECT e.pred_id FROM kg_jobs j JOIN kg_edges e
                    ON e.succ_kind = 'stream' AND e.succ_id = j.job_stream_id AND e.pred_kind = 'stream'
                 WHERE j.id = ANY(jobs)
                EXCEPT SELECT unnest(seen_streams)
            ) s(x);
            SELECT coalesce(array_agg(x), '{}') INTO next_jobs FROM (
                SELECT e.pred_id FROM kg_edges e
                 WHERE e.succ_kind = 'job' AND e.succ_id = ANY(jobs) AND e.pred_kind = 'job'
                UNION
                SELECT j.id FROM kg_jobs j WHERE j.job_stream_id = ANY(streams)
                EXCEPT SELECT unnest(seen_jobs)
            ) s(x);
        END IF;
        jobs := next_jobs;
        streams := next_streams;
        seen_jobs := seen_jobs || jobs;
        seen_streams := seen_streams || streams;
        RETURN QUERY SELECT 'job'::text, unnest(jobs), level;
        RETURN QUERY SELECT 'stream'::text, unnest(streams), level;
    END LOOP;
END
$$;
