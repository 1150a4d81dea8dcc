CREATE TABLE "outbox_marks" (
	"subscriber" text PRIMARY KEY NOT NULL,
	"below_seq" bigint NOT NULL,
	"candidate_seq" bigint,
	"candidate_xmax" bigint
);
