ALTER TABLE "tasks" ADD COLUMN "idempotency_key" varchar(100);--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_user_id_idempotency_key_idx" ON "tasks" USING btree ("user_id","idempotency_key");