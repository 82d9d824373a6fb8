ALTER TABLE "tasks" DROP CONSTRAINT "tasks_title_no_control";--> statement-breakpoint
ALTER TABLE "tasks" DROP CONSTRAINT "tasks_description_no_control";--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_title_no_control" CHECK ("tasks"."title" !~ '[\x01-\x1f\x7f-\x9f]');--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_description_no_control" CHECK ("tasks"."description" !~ '[\x01-\x08\x0b-\x1f\x7f-\x9f]');