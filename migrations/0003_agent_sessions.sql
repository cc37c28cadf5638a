CREATE TABLE `agent_approvals` (
	`id` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`user_id` text NOT NULL,
	`host_id` text NOT NULL,
	`tool_call_id` text,
	`tool` text,
	`title` text,
	`options_json` text NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`option_id` text,
	`reason` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`expires_at` integer NOT NULL,
	`resolved_at` integer,
	FOREIGN KEY (`session_id`) REFERENCES `agent_sessions`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `agent_approvals_user_state_idx` ON `agent_approvals` (`user_id`,`state`,`created_at`);--> statement-breakpoint
CREATE INDEX `agent_approvals_session_idx` ON `agent_approvals` (`session_id`);--> statement-breakpoint
CREATE TABLE `agent_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`host_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`profile` text,
	`status` text NOT NULL,
	`title` text,
	`acp_session_id` text,
	`last_seq` integer DEFAULT 0 NOT NULL,
	`stop_reason` text,
	`error` text,
	`usage_json` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer NOT NULL,
	`ended_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`workspace_id`) REFERENCES `catalog_items`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `agent_sessions_user_created_idx` ON `agent_sessions` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `agent_sessions_user_workspace_idx` ON `agent_sessions` (`user_id`,`workspace_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `agent_sessions_user_status_idx` ON `agent_sessions` (`user_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `agent_sessions_host_idx` ON `agent_sessions` (`host_id`);