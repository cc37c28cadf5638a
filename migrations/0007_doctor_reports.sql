CREATE TABLE `doctor_reports` (
	`host_id` text PRIMARY KEY NOT NULL,
	`report_json` text NOT NULL,
	`checked_at` integer NOT NULL,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
