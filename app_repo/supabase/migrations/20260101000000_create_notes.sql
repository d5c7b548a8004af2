-- Starter table, shipped by the platform program: each note belongs to the user who wrote it.
-- Every table in an exposed schema enables row-level security and says, by policy, who may
-- read and write which rows (rule S2); the RLS check in deploy.yml fails a pull request whose
-- migrations leave one out. Add new migrations beside this one; never edit an applied one.

create table public.notes (
  id bigint generated always as identity primary key,
  owner_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  body text not null check (char_length(body) <= 10000),
  created_at timestamptz not null default now()
);

create index notes_owner_id_idx on public.notes (owner_id);

alter table public.notes enable row level security;

-- Signed-in users only, each to their own rows; `(select auth.uid())` is evaluated once per
-- statement instead of once per row.
create policy "owners read their notes" on public.notes
  for select to authenticated
  using ((select auth.uid()) = owner_id);

create policy "owners add their notes" on public.notes
  for insert to authenticated
  with check ((select auth.uid()) = owner_id);

create policy "owners change their notes" on public.notes
  for update to authenticated
  using ((select auth.uid()) = owner_id)
  with check ((select auth.uid()) = owner_id);

create policy "owners delete their notes" on public.notes
  for delete to authenticated
  using ((select auth.uid()) = owner_id);

-- Visitors who are not signed in get nothing, whatever policies are added later.
revoke all on public.notes from anon;
