// Where media bytes live. The default keeps them in the database; a filesystem or object store
// can implement the same interface.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface MediaBlobs {
  put(id: string, data: Buffer): Promise<void>;
  get(id: string): Promise<Buffer | undefined>;
  delete(ids: readonly string[]): Promise<void>;
}

export class DatabaseMediaBlobs implements MediaBlobs {
  constructor(private readonly db: Kysely<Database>) {}

  async put(id: string, data: Buffer): Promise<void> {
    await this.db.insertInto('media_blobs').values({ id, data }).execute();
  }

  async get(id: string): Promise<Buffer | undefined> {
    const row = await this.db.selectFrom('media_blobs').select('data').where('id', '=', id).executeTakeFirst();
    return row ? Buffer.from(row.data) : undefined;
  }

  async delete(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.db.deleteFrom('media_blobs').where('id', 'in', ids).execute();
  }
}
