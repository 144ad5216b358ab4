//! Diesel's view of the tables; both migration trees produce exactly these columns.

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        slug -> Text,
        time_zone -> Text,
        holidays -> Text,
        provider_singular -> Text,
        provider_plural -> Text,
        class_singular -> Text,
        class_plural -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        audit_retention_days -> Integer,
        refresh_token_retention_days -> Integer,
        job_retention_days -> Integer,
        dead_job_retention_days -> Integer,
        webhook_delivery_retention_days -> Integer,
        email_delivery_retention_days -> Integer,
        event_retention_days -> Integer,
    }
}

diesel::table! {
    people (id) {
        id -> Text,
        organization_id -> Text,
        email -> Text,
        name -> Text,
        bio -> Text,
        time_zone -> Nullable<Text>,
        attributes -> Text,
        is_admin -> Bool,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        photo_url -> Nullable<Text>,
    }
}

diesel::table! {
    programs (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        description -> Text,
        status -> Text,
        time_zone -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        participant_editable_attributes -> Text,
    }
}

diesel::table! {
    participants (id) {
        id -> Text,
        organization_id -> Text,
        program_id -> Text,
        person_id -> Text,
        role -> Text,
        status -> Text,
        joined_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
        capacity -> Nullable<Integer>,
        answers -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        organization_id -> Text,
        person_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    link_tokens (id) {
        id -> Text,
        organization_id -> Text,
        person_id -> Text,
        purpose -> Text,
        subject_id -> Nullable<Text>,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        organization_id -> Text,
        created_by -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        scopes -> Text,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(people -> organizations (organization_id));
diesel::joinable!(programs -> organizations (organization_id));
diesel::joinable!(participants -> programs (program_id));
diesel::joinable!(participants -> people (person_id));
diesel::joinable!(api_keys -> people (created_by));
diesel::table! {
    jobs (id) {
        id -> Text,
        organization_id -> Nullable<Text>,
        kind -> Text,
        payload -> Text,
        dedupe_key -> Nullable<Text>,
        status -> Text,
        run_at -> Timestamp,
        attempts -> Integer,
        max_attempts -> Integer,
        last_error -> Nullable<Text>,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_templates (id) {
        id -> Text,
        organization_id -> Text,
        template_key -> Text,
        subject -> Text,
        html -> Text,
        text -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    email_deliveries (delivery_key) {
        delivery_key -> Text,
        organization_id -> Nullable<Text>,
        recipient -> Text,
        subject -> Text,
        transport -> Text,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        organization_id -> Text,
        person_id -> Text,
        kind -> Text,
        title -> Text,
        body -> Text,
        link -> Nullable<Text>,
        dedupe_key -> Nullable<Text>,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        organization_id -> Text,
        url -> Text,
        description -> Text,
        secret -> Text,
        event_types -> Text,
        enabled -> Bool,
        failure_count -> Integer,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        organization_id -> Text,
        endpoint_id -> Text,
        event_type -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(notifications -> people (person_id));

diesel::table! {
    conversations (id) {
        id -> Text,
        organization_id -> Text,
        program_id -> Nullable<Text>,
        kind -> Text,
        subject -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    conversation_members (conversation_id, person_id) {
        conversation_id -> Text,
        person_id -> Text,
        last_read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    chat_messages (id) {
        id -> Text,
        organization_id -> Text,
        conversation_id -> Text,
        sender_id -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(conversation_members -> conversations (conversation_id));
diesel::joinable!(chat_messages -> conversations (conversation_id));

diesel::table! {
    steps (id) {
        id -> Text,
        organization_id -> Text,
        program_id -> Text,
        title -> Text,
        description -> Text,
        viewer_type -> Text,
        action_type -> Text,
        link_url -> Nullable<Text>,
        publish_type -> Text,
        scheduled_for -> Nullable<Timestamp>,
        publish_at -> Nullable<Timestamp>,
        trigger_name -> Nullable<Text>,
        delay_amount -> Nullable<Integer>,
        delay_unit -> Nullable<Text>,
        include_existing -> Bool,
        due_date -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    step_deliveries (step_id, person_id) {
        step_id -> Text,
        person_id -> Text,
        organization_id -> Text,
        delivered_at -> Timestamp,
        opened_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        missed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        organization_id -> Text,
        event_type -> Text,
        program_id -> Nullable<Text>,
        person_id -> Nullable<Text>,
        payload -> Text,
        dedupe_key -> Nullable<Text>,
        occurred_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pairing_settings (program_id) {
        program_id -> Text,
        organization_id -> Text,
        process -> Text,
        mentor_capacity -> Integer,
        request_expiry_days -> Integer,
        remind_before_expiry -> Bool,
        unresponsive_days -> Integer,
        checklist_done -> Text,
        enabled -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mentor_requests (id) {
        id -> Text,
        organization_id -> Text,
        program_id -> Text,
        mentee_id -> Text,
        mentor_id -> Text,
        status -> Text,
        note -> Text,
        decline_message -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    pairings (id) {
        id -> Text,
        organization_id -> Text,
        program_id -> Text,
        mentee_id -> Text,
        mentor_id -> Text,
        request_id -> Nullable<Text>,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
    }
}

diesel::table! {
    pairing_invitations (program_id, mentee_id) {
        program_id -> Text,
        mentee_id -> Text,
        organization_id -> Text,
        first_sent_at -> Timestamp,
        last_sent_at -> Timestamp,
        times -> Integer,
    }
}

diesel::table! {
    auto_pair (program_id) {
        program_id -> Text,
        organization_id -> Text,
        rules -> Text,
        proposal_id -> Nullable<Text>,
        proposal -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    automations (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        trigger_type -> Text,
        definition -> Text,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        webhook_secret -> Text,
    }
}

diesel::table! {
    automation_versions (automation_id, version) {
        automation_id -> Text,
        version -> Integer,
        definition -> Text,
        active -> Bool,
        valid_from -> Timestamp,
    }
}

diesel::table! {
    automation_runs (id) {
        id -> Text,
        organization_id -> Text,
        automation_id -> Text,
        version -> Integer,
        event_id -> Text,
        person_id -> Nullable<Text>,
        outcome -> Text,
        conditions -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    automation_run_actions (run_id, position) {
        run_id -> Text,
        position -> Integer,
        automation_id -> Text,
        action -> Text,
        state -> Text,
        reason -> Nullable<Text>,
        due_at -> Nullable<Timestamp>,
        done_at -> Nullable<Timestamp>,
        attempts -> Integer,
    }
}

diesel::table! {
    automation_contacts (automation_id, person_id) {
        automation_id -> Text,
        person_id -> Text,
        last_run_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    automation_queue (event_id) {
        event_id -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    badges (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        description -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    person_badges (badge_id, person_id) {
        badge_id -> Text,
        person_id -> Text,
        organization_id -> Text,
        awarded_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> Text,
        organization_id -> Text,
        caller -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        response_status -> Nullable<Integer>,
        response_content_type -> Nullable<Text>,
        response_location -> Nullable<Text>,
        response_body -> Nullable<Binary>,
        locked_until -> Timestamp,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(automation_runs -> events (event_id));
diesel::joinable!(automation_run_actions -> automation_runs (run_id));
diesel::joinable!(automation_queue -> events (event_id));
diesel::joinable!(person_badges -> badges (badge_id));

diesel::joinable!(step_deliveries -> steps (step_id));
diesel::joinable!(steps -> programs (program_id));

diesel::table! {
    services (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        course_number -> Text,
        description -> Text,
        duration_minutes -> Integer,
        buffer_before_minutes -> Integer,
        buffer_after_minutes -> Integer,
        notice_unit -> Text,
        notice_amount -> Integer,
        horizon_days -> Integer,
        interval_minutes -> Integer,
        late_cancel_hours -> Integer,
        waitlist -> Bool,
        formats -> Text,
        locations -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    providers (person_id) {
        person_id -> Text,
        organization_id -> Text,
        photo_url -> Nullable<Text>,
        availability -> Text,
        locations -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    certifications (service_id, provider_id) {
        service_id -> Text,
        provider_id -> Text,
        created_at -> Timestamp,
        slot_revision -> BigInt,
    }
}

diesel::table! {
    enrollments (service_id, person_id) {
        service_id -> Text,
        person_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    booking_settings (organization_id) {
        organization_id -> Text,
        students_edit_classes -> Bool,
        formats -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    bookings (id) {
        id -> Text,
        organization_id -> Text,
        service_id -> Text,
        provider_id -> Text,
        student_id -> Text,
        format -> Text,
        location -> Text,
        answers -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        blocked_from -> Timestamp,
        blocked_until -> Timestamp,
        status -> Text,
        sequence -> Integer,
        cancelled_at -> Nullable<Timestamp>,
        cancelled_by -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        completed_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    booking_waitlist (id) {
        id -> Text,
        organization_id -> Text,
        service_id -> Text,
        provider_id -> Text,
        student_id -> Text,
        day -> Date,
        offered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    calendar_feeds (person_id) {
        person_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(certifications -> services (service_id));
diesel::joinable!(certifications -> providers (provider_id));
diesel::joinable!(providers -> people (person_id));
diesel::joinable!(enrollments -> services (service_id));
diesel::joinable!(enrollments -> people (person_id));
diesel::joinable!(bookings -> services (service_id));
diesel::joinable!(bookings -> providers (provider_id));

diesel::table! {
    audit_log (id) {
        id -> Text,
        organization_id -> Text,
        occurred_at -> Timestamp,
        source -> Text,
        actor_person_id -> Nullable<Text>,
        actor_api_key_id -> Nullable<Text>,
        action -> Text,
        object_type -> Text,
        object_id -> Text,
        before_summary -> Nullable<Text>,
        after_summary -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    slot_revisions (organization_id) {
        organization_id -> Text,
        revision -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    people,
    programs,
    participants,
    refresh_tokens,
    link_tokens,
    api_keys,
    jobs,
    email_templates,
    email_deliveries,
    notifications,
    webhook_endpoints,
    webhook_deliveries,
    conversations,
    conversation_members,
    chat_messages,
    steps,
    step_deliveries,
    events,
    pairing_settings,
    mentor_requests,
    pairings,
    pairing_invitations,
    auto_pair,
    automations,
    automation_versions,
    automation_runs,
    automation_run_actions,
    automation_contacts,
    automation_queue,
    badges,
    person_badges,
    idempotency_keys,
    services,
    providers,
    certifications,
    enrollments,
    booking_settings,
    bookings,
    booking_waitlist,
    calendar_feeds,
    audit_log,
    slot_revisions,
);
