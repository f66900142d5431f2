CREATE TABLE "login_throttle" (
	"key" text PRIMARY KEY,
	"points" integer DEFAULT 0 NOT NULL,
	"expire" timestamp with time zone
);
