CREATE INDEX `agent_approvals_host_idx` ON `agent_approvals` (`host_id`);--> statement-breakpoint
CREATE INDEX `agent_sessions_workspace_idx` ON `agent_sessions` (`workspace_id`);--> statement-breakpoint
CREATE INDEX `audit_log_host_created_idx` ON `audit_log` (`host_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `catalog_items_host_idx` ON `catalog_items` (`host_id`);--> statement-breakpoint
CREATE INDEX `device_logins_host_idx` ON `device_logins` (`host_id`);--> statement-breakpoint
CREATE INDEX `device_logins_approved_by_idx` ON `device_logins` (`approved_by`);--> statement-breakpoint
CREATE INDEX `hosts_user_online_idx` ON `hosts` (`user_id`,`online`);